import { because } from "../events/end-reason.js";
import type { WaitKind } from "../events/run-event.js";
import type { StepRecord } from "../store/run-state.js";
import { adapterFor } from "../tools/registry.js";
import type { Step } from "../workstream/model.js";
import { ToolGate, type Admission } from "./tool-gate.js";
import type { ApprovalGates } from "./approvals.js";
import type { Final, Gate, UnitResult } from "./scheduler.js";
import { ScopeSpans } from "./scope-spans.js";
import { StepRun, type StepRunnerDeps } from "./step-runner.js";
import { stepEndEvent } from "./step-end.js";

/** The least time between two looks at the user's checkout while steps run. */
const LOOK_GAP_MS = 1000;
/** How long after a step's end the look at the checkout waits at least (the hop to its dependents is on the run's critical path). */
const AFTER_HOP_MS = 50;

type StepUnitsDeps = Omit<StepRunnerDeps, "adapter" | "othersScopes"> & {
  ids: readonly string[];
  /** The step in the run being resumed (attempts made, a commit cut short). */
  previous: (stepId: string) => Pick<StepRecord, "attempts" | "commitPending" | "interrupted" | "inAttempt" | "state" | "commit"> | undefined;
  /** The step as it runs (its output references resolved); default: as written. */
  resolve?: (node: number) => Step | undefined;
  /** Where gated steps wait for a decision; without it, gates are open. */
  approvals?: ApprovalGates | undefined;
  /** The steps a step depends on (group names expanded), in the graph's order. */
  parents: (node: number) => readonly number[];
};

/** What the gate hands to `run`: the tool's admission, or a rejected approval gate. */
type Token = Admission | { kind: "rejected"; detail: string };

/**
 * What the scheduler runs: each node is a step whose attempts go through its tool's breaker, and
 * whose edits are judged against the scopes of the attempts that overlapped it.
 */
export class StepUnits {
  private readonly tools: ToolGate;
  /** Steps the gate refused (every tool unusable, the run's budget spent): why, for their step-end. */
  private readonly refusals = new Map<number, string>();
  private readonly spans: ScopeSpans;
  private readonly runs = new Map<number, StepRun>();
  /** Worktree runs: each step's work as a commit, once known (see resultOf). */
  private readonly results = new Map<number, Promise<string>>();
  private readonly releases: Promise<void>[] = [];

  constructor(private readonly deps: StepUnitsDeps) {
    const now = () => deps.clock.now();
    this.tools = new ToolGate(deps.workstream, deps.env, deps.clock, deps.emit);
    this.spans = new ScopeSpans(now);
  }

  private step(node: number): Step {
    const step = this.deps.resolve ? this.deps.resolve(node) : this.deps.workstream.steps[node];
    if (!step) throw new Error(`no step at node ${node}`);
    return step;
  }

  private skipsItself(node: number): boolean {
    return this.step(node).when?.value === false;
  }

  private at(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * The token is the admission: which tool runs the step (a fallback when the first is parked) or
   * why it cannot. An approval gate comes first: no tool is asked for a step nobody approved.
   */
  gate = (node: number): Gate => {
    if (this.skipsItself(node)) return { ok: true };
    const step = this.step(node);
    const verdict = this.deps.approvals?.check(step) ?? { kind: "open" };
    if (verdict.kind === "wait") return { ok: false, retryInMs: verdict.retryInMs };
    if (verdict.kind === "rejected") return { ok: true, token: { kind: "rejected", detail: verdict.detail } satisfies Token };
    const admission = this.tools.admit(step);
    return admission.kind === "wait" ? { ok: false, retryInMs: admission.retryInMs } : { ok: true, token: admission };
  };

  run = async (node: number, signal: AbortSignal, token: unknown): Promise<UnitResult> => {
    const step = this.step(node);
    if (this.skipsItself(node)) {
      // Decided in place, once its dependencies are done: like a step that ran and did nothing.
      this.deps.emit(stepEndEvent(this.at(), { step: step.id, state: "skipped", reason: because("skipped") }));
      return { final: true, state: "skipped", reason: because("skipped") };
    }
    const admission = (token as Token | undefined) ?? { kind: "run", tool: step.tool, trial: false };
    if (admission.kind === "rejected" && step.approval?.onReject !== "fail") {
      // Held: the step ends without running or failing (onFinal says so), its dependents never start.
      this.refusals.set(node, `${admission.detail}; held: ws run --resume --approve ${step.id} continues`);
      return { final: true, state: "cancelled", reason: because("held") };
    }
    if (admission.kind === "rejected") {
      // A rejection is the step's failure (on_failure applies), decided before any attempt.
      this.deps.emit(stepEndEvent(this.at(), { step: step.id, state: "failed", reason: because("rejected"), detail: admission.detail }));
      return { final: true, state: "failed", reason: because("rejected") };
    }
    if (admission.kind === "refuse") {
      this.refusals.set(node, admission.detail);
      return { final: true, state: admission.state, reason: admission.reason };
    }
    const { tool, trial } = admission.kind === "run" ? admission : { tool: step.tool, trial: false };
    this.tools.started(tool, step, trial);
    const span = this.spans.begin(step);
    try {
      const run = this.stepRun(node, step);
      const result = await run.attempt(signal, tool);
      this.tools.record(result, step, trial, run.lastUsage);
      if (result.final) await run.releaseLane(result.state === "passed");
      if (result.final) this.joinAhead(node);
      this.attemptsEnded++;
      // Not on the step's way: the next step may start while ws looks at the checkout.
      this.lookOutsideSoon();
      return result;
    } finally {
      this.spans.end(span);
    }
  };

  /** What changed outside the steps' worktrees is said, never charged to a step (outside-watch.ts). */
  private looking: Promise<void> | undefined;
  private lastLook = 0;
  /** Attempts ended so far, and how many had when the look now running began. */
  private attemptsEnded = 0;
  private lookedAfter = -1;
  private nextLook: NodeJS.Timeout | undefined;

  /**
   * One look at a time, and at most one a second (a look is three git processes and a read of
   * the git dir, which on two cores slowed the steps that start as another ends, issue 32); an
   * attempt that ends meanwhile is covered by the look after it, or the last one (settle).
   */
  private lookOutsideSoon(): void {
    if (this.looking !== undefined || this.nextLook !== undefined || !this.deps.git.lanes) return;
    // Never at once: a step just ended, and the hop to its dependents (their base, lanes, starts)
    // goes first; starting two git processes holds ws's thread for a while on a loaded machine.
    const wait = Math.max(this.lastLook + LOOK_GAP_MS - Date.now(), AFTER_HOP_MS);
    this.nextLook = setTimeout(() => {
      this.nextLook = undefined;
      if (this.looking !== undefined) return;
      this.lastLook = Date.now();
      this.lookedAfter = this.attemptsEnded;
      this.looking = this.lookOutside().finally(() => (this.looking = undefined));
    }, wait);
    this.nextLook.unref();
  }

  /** Children of each node, for joinAhead. */
  private children: number[][] | undefined;

  /**
   * Worktree runs: the join of a dependent's first dependencies, made as soon as they have all
   * ended, while the rest still run (RunBranch keeps it): when the last ends, one merge is left
   * between it and the dependent's start instead of one per dependency.
   */
  private joinAhead(node: number): void {
    const branch = this.deps.git.lanes?.branch;
    if (!branch) return;
    if (this.children === undefined) {
      const children: number[][] = this.deps.ids.map(() => []);
      this.deps.ids.forEach((_, child) => {
        for (const parent of this.deps.parents(child)) children[parent]?.push(child);
      });
      this.children = children;
    }
    for (const child of this.children[node] ?? []) {
      const parents = this.deps.parents(child);
      const ended = parents.findIndex((p) => !(this.runs.get(p)?.ended ?? this.deps.previous(this.deps.ids[p] ?? "")?.state === "passed"));
      const done = ended === -1 ? parents : parents.slice(0, ended);
      // One dependency is its own join: nothing to make.
      if (done.length < 2) continue;
      void (async () => {
        const results = [];
        for (const p of done) results.push({ step: this.deps.ids[p] ?? String(p), commit: await this.resultOf(p) });
        await branch.baseFor(results);
      })().catch(() => undefined);
    }
  }

  private async lookOutside(): Promise<void> {
    const watch = this.deps.git.lanes?.watch;
    // A look cut short (Ctrl-C reaches git too) tells nothing; the next one sees the same changes.
    const changed = watch ? await watch.changes().catch(() => [] as string[]) : [];
    if (changed.length === 0) return;
    const sandboxed = this.deps.workstream.execution.isolation === "sandbox";
    const shown = changed.length > 8 ? `${changed.slice(0, 8).join(", ")} and ${changed.length - 8} more` : changed.join(", ");
    const why = sandboxed ? "the steps could not write there (sandbox), so it was you or another program" : 'ws cannot tell who (a step escaping its worktree, or you); isolation "sandbox" keeps steps from writing there';
    this.deps.emit({ type: "warning", at: this.at(), message: `changed in your checkout while steps ran: ${shown}; left as it is: ${why}` });
  }

  /** Waits until every worktree of a step that ended between attempts is given back. */
  async settle(): Promise<void> {
    clearTimeout(this.nextLook);
    this.nextLook = undefined;
    await Promise.all(this.releases);
    // The lanes' last index updates run beside the last look at the checkout.
    const lanes = this.deps.git.lanes?.pool.settled();
    // A look begun (running or done) once the last attempt had ended is the last look already (the
    // last step's end starts one): a second, right after, is three more git processes before run-end.
    const last = this.lookedAfter === this.attemptsEnded;
    await this.looking;
    // The last look: what changed while the last steps ran is said before the run ends.
    if (!last) await this.lookOutside();
    await lanes;
  }

  /**
   * The commit a step starts from in a worktree run: the run's base merged with its dependencies'
   * results in the graph's order. A dependency's result is its commit when it made one (this run,
   * or the run being resumed), else its own base: a step that failed, was skipped or changed
   * nothing passes on what it was given.
   */
  private baseFor = async (step: Step): Promise<{ commit: string } | { conflict: import("../git/run-branch.js").MergeConflict }> => {
    const branch = this.deps.git.lanes!.branch;
    const node = this.deps.ids.indexOf(step.id);
    const parents = [];
    for (const parent of this.deps.parents(node)) parents.push({ step: this.deps.ids[parent] ?? String(parent), commit: await this.resultOf(parent) });
    return branch.baseFor(parents);
  };

  private resultOf(node: number): Promise<string> {
    let result = this.results.get(node);
    if (result === undefined) {
      const id = this.deps.ids[node] ?? "";
      const run = this.runs.get(node);
      const previous = this.deps.previous(id);
      result = (async () => {
        if (run?.result !== undefined) return run.result;
        if (previous?.state === "passed" && previous.commit !== undefined) return previous.commit;
        const base = await this.baseFor(this.step(node));
        return "commit" in base ? base.commit : this.deps.git.lanes!.branch.base;
      })();
      // Only a step that has ended has a final result.
      if (run?.ended ?? previous?.state === "passed") this.results.set(node, result);
    }
    return result;
  }

  /** Held back, or admitted and waiting for its worktree: a segment of the timeline (in place there is no worktree to wait for). */
  onWait = (node: number, wait: WaitKind, until?: number): void => {
    const step = this.deps.ids[node];
    if (step === undefined || (wait === "lane" && !this.deps.git.lanes)) return;
    this.deps.emit({ type: "step-wait", at: this.at(), step, wait, until: until === undefined ? undefined : new Date(until).toISOString() });
  };

  onFinal = (node: number, final: Final): void => {
    // A queued step left behind by its tools (parked past max_wait, breaker open under stop/abort)
    // says so rather than just "cancelled"; a refused one says why.
    const step = this.deps.workstream.steps[node];
    const why = final.state === "cancelled" && step && !this.refusals.has(node) ? this.tools.whyNotStarted(step) : undefined;
    // A step cancelled between attempts has not said so yet; steps that ended emitted their own step-end.
    if (final.state === "cancelled") this.runs.get(node)?.cancel(why);
    const run = this.runs.get(node);
    if (run) this.releases.push(run.releaseLane().catch((error: unknown) => this.deps.emit({ type: "warning", at: this.at(), step: run.stepId, message: `could not give back the worktree of ${run.stepId}: ${(error as Error).message.split("\n")[0]}` })));
    const notRun = final.state === "blocked" || (final.state === "cancelled" && !this.runs.has(node)) || (final.state === "skipped" && (final.reason.kind === "run_if" || final.reason.kind === "skipped_by"));
    if (notRun) {
      const detail = this.refusals.get(node) ?? why?.detail;
      this.deps.emit(stepEndEvent(this.at(), { step: this.deps.ids[node] ?? String(node), state: final.state, reason: why?.reason ?? final.reason, detail }));
    }
  };

  private stepRun(node: number, step: Step): StepRun {
    let run = this.runs.get(node);
    if (!run) {
      const { deps } = this;
      run = new StepRun(
        step,
        {
          ...deps,
          adapter: (tool: string) => adapterFor(deps.workstream, tool),
          othersScopes: (s: Step, since: number) => this.spans.othersScopes(s, since),
          baseFor: deps.git.lanes ? this.baseFor : undefined,
          runSpend: this.tools.spend,
        },
        deps.previous(step.id),
      );
      this.runs.set(node, run);
    }
    return run;
  }
}
