import { because } from "../events/end-reason.js";
import type { StepRecord } from "../store/run-state.js";
import { adapterFor } from "../tools/registry.js";
import type { Step } from "../workstream/model.js";
import { BreakerRegistry } from "./breakers.js";
import type { Final, Gate, UnitResult } from "./scheduler.js";
import { ScopeSpans } from "./scope-spans.js";
import { StepRun, type StepRunnerDeps } from "./step-runner.js";

export type StepUnitsDeps = Omit<StepRunnerDeps, "adapter" | "othersScopes"> & {
  ids: readonly string[];
  /** The step in the run being resumed (attempts made, a commit cut short). */
  previous: (stepId: string) => Pick<StepRecord, "attempts" | "commitPending"> | undefined;
  /** The step as it runs (its output references resolved); default: as written. */
  resolve?: (node: number) => Step | undefined;
};

/**
 * What the scheduler runs: each node is a step whose attempts go through its tool's breaker, and
 * whose edits are judged against the scopes of the attempts that overlapped it.
 */
export class StepUnits {
  private readonly breakers: BreakerRegistry;
  private readonly spans: ScopeSpans;
  private readonly runs = new Map<number, StepRun>();

  constructor(private readonly deps: StepUnitsDeps) {
    const now = () => deps.clock.now();
    this.breakers = new BreakerRegistry(deps.workstream.circuitBreaker, now, deps.emit);
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

  gate = (node: number): Gate => (this.skipsItself(node) ? { ok: true } : this.breakers.gate(this.step(node).tool));

  run = async (node: number, signal: AbortSignal, token: unknown): Promise<UnitResult> => {
    const step = this.step(node);
    if (this.skipsItself(node)) {
      // Decided in place, once its dependencies are done: like a step that ran and did nothing.
      this.deps.emit({ type: "step-end", at: this.at(), step: step.id, state: "skipped", reason: because("skipped"), attempts: 0, durationMs: 0 });
      return { final: true, state: "skipped", reason: because("skipped") };
    }
    const trial = token === true;
    this.breakers.started(step.tool, trial);
    const span = this.spans.begin(step);
    try {
      const result = await this.stepRun(node, step).attempt(signal);
      if (!(result.final && result.state === "cancelled")) this.breakers.record(step.tool, result, trial);
      return result;
    } finally {
      this.spans.end(span);
    }
  };

  onFinal = (node: number, final: Final): void => {
    // A step cancelled between attempts has not said so yet; steps that ended emitted their own step-end.
    if (final.state === "cancelled") this.runs.get(node)?.cancel();
    const notRun = final.state === "blocked" || (final.state === "cancelled" && !this.runs.has(node)) || (final.state === "skipped" && final.reason.kind === "run_if");
    if (notRun) {
      // Under stop/abort, a queued step whose tool's breaker is open says so rather than just "cancelled".
      const open = final.state === "cancelled" && this.breakers.isOpen(this.deps.workstream.steps[node]?.tool ?? "");
      const reason = open ? because("circuit_open") : final.reason;
      this.deps.emit({ type: "step-end", at: this.at(), step: this.deps.ids[node] ?? String(node), state: final.state, reason, attempts: 0, durationMs: 0 });
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
          adapter: (s: Step) => adapterFor(deps.workstream, s.tool),
          othersScopes: (s: Step, since: number) => this.spans.othersScopes(s, since),
        },
        deps.previous(step.id),
      );
      this.runs.set(node, run);
    }
    return run;
  }
}
