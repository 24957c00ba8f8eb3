import type { ApprovalVia, RunEvent } from "../events/run-event.js";
import { formatDuration } from "../format/duration.js";
import { readDecision } from "../store/approvals.js";
import type { WsPaths } from "../store/paths.js";
import type { Step } from "../workstream/model.js";
import type { Clock } from "./clock.js";

/** An answer given at the run's terminal. */
export interface ApprovalAnswer {
  approved: boolean;
  reason?: string | undefined;
}

/**
 * Asks at the run's terminal. The signal aborts the question once the gate was decided another
 * way (from another terminal, by its timeout) or the run ends; the promise may then never settle.
 */
export type AskApproval = (request: { step: string; prompt: string }, signal: AbortSignal) => Promise<ApprovalAnswer>;

export interface ApprovalSettings {
  /** `ws run --approve`: these steps (or all) pass their gates as soon as they reach them. */
  preApproved?: readonly string[] | "all" | undefined;
  ask?: AskApproval | undefined;
  /** Who answers at the terminal or passed --approve. */
  user: string;
}

export type GateVerdict = { kind: "open" } | { kind: "wait"; retryInMs: number } | { kind: "rejected"; detail: string };

interface Waiting {
  timeoutAt: number | undefined;
  answer: ApprovalAnswer | undefined;
  asking: AbortController;
}

/** How often a waiting gate looks for a decision file: fast enough to feel immediate, cheap to read. */
const POLL_MS = 250;

/**
 * The approval gates of one run. A gated step waits here, holding no worker, until a decision
 * arrives from one of three places (`--approve`, `ws approve`/`ws reject` through a decision
 * file, the terminal's prompt) or its timeout rejects it. Every decision is one `approval-end`
 * event, so `ws status`, the log and the reports all say who decided and how.
 */
export class ApprovalGates {
  private readonly waiting = new Map<string, Waiting>();
  private readonly decided = new Map<string, GateVerdict>();

  constructor(
    private readonly deps: { paths: WsPaths; runId: string; clock: Clock; emit: (event: RunEvent) => void; settings: ApprovalSettings },
  ) {}

  /** Asked by the scheduler's gate each time the step could start. */
  check(step: Step): GateVerdict {
    const gate = step.approval;
    if (!gate) return { kind: "open" };
    const done = this.decided.get(step.id);
    if (done) return done;
    const { preApproved, user } = this.deps.settings;
    if (preApproved === "all" || preApproved?.includes(step.id)) return this.decide(step.id, true, user, "flag");
    let wait = this.waiting.get(step.id);
    if (!wait) wait = this.startWaiting(step);
    if (wait.answer) return this.decide(step.id, wait.answer.approved, user, "prompt", wait.answer.reason);
    const filed = readDecision(this.deps.paths, step.id, this.deps.runId);
    if (filed) return this.decide(step.id, filed.approved, filed.by, "command", filed.reason);
    const now = this.deps.clock.now();
    if (wait.timeoutAt !== undefined && now >= wait.timeoutAt) {
      return this.decide(step.id, false, "ws", "timeout", `nobody decided within ${formatDuration(gate.timeout * 1000)} (approval.timeout)`);
    }
    return { kind: "wait", retryInMs: Math.min(POLL_MS, wait.timeoutAt === undefined ? POLL_MS : wait.timeoutAt - now) };
  }

  /** Questions still open at the terminal are withdrawn when the run's steps are over. */
  close(): void {
    for (const wait of this.waiting.values()) wait.asking.abort();
  }

  private startWaiting(step: Step): Waiting {
    const { clock, emit, settings } = this.deps;
    const now = clock.now();
    const prompt = step.approval?.prompt ?? "";
    const timeoutAt = step.approval?.timeout ? now + step.approval.timeout * 1000 : undefined;
    const wait: Waiting = { timeoutAt, answer: undefined, asking: new AbortController() };
    this.waiting.set(step.id, wait);
    emit({ type: "approval-wait", at: new Date(now).toISOString(), step: step.id, prompt, timeoutAt: timeoutAt === undefined ? undefined : new Date(timeoutAt).toISOString() });
    settings.ask?.({ step: step.id, prompt }, wait.asking.signal).then(
      (answer) => {
        wait.answer = answer;
      },
      () => undefined,
    );
    return wait;
  }

  private decide(step: string, approved: boolean, by: string, via: ApprovalVia, reason?: string): GateVerdict {
    this.waiting.get(step)?.asking.abort();
    this.deps.emit({ type: "approval-end", at: new Date(this.deps.clock.now()).toISOString(), step, approved, by, via, reason });
    const verdict: GateVerdict = approved ? { kind: "open" } : { kind: "rejected", detail: via === "timeout" ? (reason ?? "") : `by ${by}${reason ? `: ${reason}` : ""}` };
    this.decided.set(step, verdict);
    return verdict;
  }
}
