import { because, type EndReason } from "../events/end-reason.js";
import type { RunEvent } from "../events/run-event.js";
import type { Usage } from "../events/usage.js";
import { resolveToolBinary } from "../tools/binary.js";
import type { Step, Workstream } from "../workstream/model.js";
import { CircuitBreaker } from "./breaker.js";
import type { Clock } from "./clock.js";
import { clockTime } from "../format/duration.js";
import type { AttemptResult } from "./step-runner.js";
import { RunSpend } from "./run-spend.js";

/** What the scheduler's gate hears about one step that wants to start. */
export type Admission =
  /** Start now with `tool` (the first of the step's tools that is neither parked nor unusable). */
  | { kind: "run"; tool: string; trial: boolean }
  /** Every tool of the step is parked; ask again then. Infinity: not within circuit_breaker.max_wait. */
  | { kind: "wait"; retryInMs: number }
  /** The step cannot run in this run at all (every tool unusable, or the run's budget spent). */
  | { kind: "refuse"; state: "blocked" | "cancelled"; reason: EndReason; detail: string };

/** What the run's spending limits leave; undefined while within them. */
function runBudgetSpent(ws: Workstream, used: Usage | undefined): string | undefined {
  const { maxCostUsd, maxTokens, maxTurns } = ws.budget;
  const u = used ?? {};
  if (maxCostUsd !== undefined && (u.costUsd ?? 0) >= maxCostUsd) return `the workstream's budget of $${maxCostUsd} is spent ($${(u.costUsd ?? 0).toFixed(4)})`;
  const tokens = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  if (maxTokens !== undefined && tokens >= maxTokens) return `the workstream's budget of ${maxTokens} tokens is spent (${tokens})`;
  if (maxTurns !== undefined && (u.turns ?? 0) >= maxTurns) return `the workstream's budget of ${maxTurns} turns is spent (${u.turns ?? 0})`;
  return undefined;
}

/**
 * Which tool a step starts with, and whether it may start at all: one circuit breaker per tool
 * (a quota parks it until the reset time), tools made unusable by an auth failure, fallback
 * lists (`"tool": ["claude", "codex"]`), `circuit_breaker.max_wait` and the run's budget. The
 * scheduler only sees its answer through the gate; nothing here spawns or prints.
 */
export class ToolGate {
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** Tools no step may use for the rest of the run (auth, or network without network_wait): why, as a refused step's detail. */
  private readonly unusable = new Map<string, { reason: "auth" | "network"; detail: string }>();
  /** Tools parked by network_wait rather than a quota: a step left behind says so. */
  private readonly waitingForNetwork = new Set<string>();
  /** The run's spending: ended attempts (which admit the next step) and running ones (which StepRun stops past the budget). */
  readonly spend: RunSpend;

  constructor(
    private readonly ws: Workstream,
    private readonly env: NodeJS.ProcessEnv,
    private readonly clock: Clock,
    private readonly emit: (event: RunEvent) => void,
  ) {
    this.spend = new RunSpend(ws.budget);
  }

  private get perStep(): boolean {
    return this.ws.circuitBreaker.per === "step";
  }

  /** Which breaker counts a step's attempts with `tool`: the tool's (shared), or the step's own. */
  private keyOf(tool: string, step: Step): string {
    return this.perStep ? `${tool}\u0000${step.id}` : tool;
  }

  /**
   * A failing shell command says nothing about "the shell": per tool, only agent tools get
   * breakers. Per step it says something about the step, which gets one whatever its tool.
   */
  breakerFor(tool: string, step: Step): CircuitBreaker | undefined {
    if (tool === "shell" && !this.perStep) return undefined;
    const key = this.keyOf(tool, step);
    let breaker = this.breakers.get(key);
    if (!breaker) {
      const own = this.perStep ? step.id : undefined;
      breaker = new CircuitBreaker(tool, this.ws.circuitBreaker, () => this.clock.now(), (state, failures, reopenAt) =>
        this.emit({
          type: "breaker",
          at: new Date(this.clock.now()).toISOString(),
          tool,
          state,
          failures,
          cooldownMs: reopenAt === undefined ? undefined : Math.max(0, reopenAt - this.clock.now()),
          until: reopenAt === undefined ? undefined : new Date(reopenAt).toISOString(),
          step: own,
        }),
      );
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  admit(step: Step): Admission {
    const shell = step.tool === "shell";
    if (shell && !this.perStep) return { kind: "run", tool: "shell", trial: false };
    const spent = shell ? undefined : runBudgetSpent(this.ws, this.spend.spent);
    if (spent !== undefined) return { kind: "refuse", state: "cancelled", reason: because("budget"), detail: `not started: ${spent}` };
    let wait = Infinity;
    for (const [i, tool] of step.tools.entries()) {
      if (this.unusable.has(tool)) continue;
      // A fallback that is not installed is no fallback (the first tool's absence stops the run before it starts).
      if (i > 0 && resolveToolBinary(this.ws, tool, this.env) === undefined) continue;
      const gate = this.breakerFor(tool, step)!.gate();
      if (gate.ok) return { kind: "run", tool, trial: gate.trial };
      wait = Math.min(wait, gate.retryInMs);
    }
    if (wait === Infinity) {
      const why = [...this.unusable.entries()].find(([t]) => step.tools.includes(t))?.[1] ?? { reason: "auth", detail: `${step.tool} is unusable` };
      return { kind: "refuse", state: "blocked", reason: because(why.reason), detail: why.detail };
    }
    return { kind: "wait", retryInMs: wait > this.ws.circuitBreaker.maxWait * 1000 ? Infinity : wait };
  }

  started(tool: string, step: Step, trial: boolean): void {
    this.breakerFor(tool, step)?.started(trial);
  }

  /** After an attempt: feed the breaker, mark an unusable tool, count the run's spending. */
  record(result: AttemptResult, step: Step, trial: boolean, usage: Usage | undefined): void {
    this.spend.settle(step.id, usage);
    if (result.auth) this.unusable.set(result.tool, { reason: "auth", detail: `${result.tool} cannot authenticate (${result.auth.message}); fix: ${result.auth.fix}` });
    if (result.network && !this.unusable.has(result.tool)) this.markUnreachable(result.tool, result.network, step);
    if (result.quota?.network === true) this.waitingForNetwork.add(result.tool);
    else if (result.quota) this.waitingForNetwork.delete(result.tool);
    if (result.final && result.state === "cancelled") return;
    this.breakerFor(result.tool, step)?.record(result.toolFault, trial, result.quota);
  }

  /**
   * The tool could not reach its API and the run does not wait (network_wait 0): its queued
   * steps are refused with one message that names the host and how to go on, said once here
   * for the run and again on each refused step.
   */
  private markUnreachable(tool: string, network: { message: string; host: string | undefined }, step: Step): void {
    const where = network.host ?? "its API";
    const resume = `when ${where} can be reached again, continue with: ws run --ws-id ${this.ws.id} --resume (or set circuit_breaker.network_wait to wait for it)`;
    this.unusable.set(tool, { reason: "network", detail: `not attempted: ${tool} could not reach ${where} (step ${step.id}); ${resume}` });
    this.emit({ type: "warning", at: new Date(this.clock.now()).toISOString(), step: step.id, message: `${tool} could not reach ${where}: no step uses ${tool} for the rest of this run; ${resume}` });
  }

  /**
   * Why a step that never got to start (the run ended first) is left: parked on a quota past
   * max_wait, or behind an open breaker. Undefined when its tools are not the cause.
   */
  whyNotStarted(step: Step): { reason: EndReason; detail?: string } | undefined {
    const open = step.tools.map((tool) => ({ tool, until: this.breakers.get(this.keyOf(tool, step))?.openUntil, parked: this.breakers.get(this.keyOf(tool, step))?.parked })).filter((x) => x.until !== undefined);
    if (open.length === 0 || open.length < step.tools.filter((t) => !this.unusable.has(t)).length) return undefined;
    const first = open.reduce((a, b) => ((a.until ?? 0) <= (b.until ?? 0) ? a : b));
    const until = first.until ?? 0;
    if (first.parked === true && this.waitingForNetwork.has(first.tool)) {
      return {
        reason: because("network"),
        detail: `waiting (network, until ${clockTime(until) ?? ""}): ${first.tool} could not reach its API and is parked past circuit_breaker.max_wait (${this.ws.circuitBreaker.maxWait} s); once it can, continue with: ws run --ws-id ${this.ws.id} --resume`,
      };
    }
    if (first.parked === true) {
      return {
        reason: because("quota"),
        detail: `waiting (quota, until ${clockTime(until) ?? ""}): ${first.tool} is parked past circuit_breaker.max_wait (${this.ws.circuitBreaker.maxWait} s); continue with ws run --resume after ${new Date(until).toISOString()}`,
      };
    }
    return { reason: because("circuit_open") };
  }
}
