import { because, type EndReason } from "../events/end-reason.js";
import type { Board, SchedulerGraph } from "./any-groups.js";
import type { Final, RunIfMode } from "./scheduler.js";

/** failure: on_failure stop; abort: on_failure abort; interrupt: Ctrl-C; hard: a second Ctrl-C. */
export type StopMode = "failure" | "abort" | "interrupt" | "hard";

/**
 * Which nodes may start: a node is ready once its dependencies ended the way its run_if wants,
 * blocked behind a failure (naming the root cause), skipped by its run_if, or cancelled by a stop.
 * Holds the ready set in the order nodes became ready; admission picks from it.
 */
export class Readiness {
  /** node → sequence number (FIFO order). Only ever holds nodes that may start under the current stop mode (see sweep). */
  private readonly readySince = new Map<number, number>();
  private sequence = 0;
  stopped: StopMode | undefined;
  private readonly waitsOn: ReadonlyArray<readonly number[]>;
  private readonly dependents: Array<number[] | undefined> = [];
  // Settling a node re-evaluates its dependents; a worklist rather than recursion, so a 10k-step chain cannot overflow the stack.
  private readonly toEvaluate: number[] = [];
  private evaluating = false;

  constructor(
    private readonly graph: SchedulerGraph,
    private readonly board: Board,
    private readonly hooks: {
      runIf: (node: number) => RunIfMode;
      /** The selected nodes were named one by one (--only). */
      named: boolean;
      /** A node reached its final state. */
      settled: (node: number, final: Final) => void;
      /** Decides an `any` group's virtual node. */
      evaluateGroup: (node: number, gi: number) => void;
    },
  ) {
    this.waitsOn = effectiveDeps(graph.deps, graph.selected, hooks.runIf);
    this.waitsOn.forEach((ds, i) => ds.forEach((d) => (this.dependents[d] ??= []).push(i)));
  }

  get size(): number {
    return this.readySince.size;
  }

  /** The ready nodes, in the order they became ready. */
  ready(): IterableIterator<number> {
    return this.readySince.keys();
  }

  /** When the node became ready (smaller: earlier). */
  order(node: number): number {
    return this.readySince.get(node) ?? 0;
  }

  /** The node starts: it leaves the ready set. */
  take(node: number): void {
    this.readySince.delete(node);
  }

  /** A retry goes back into the queue behind nothing: it keeps its priority. */
  requeue(node: number): void {
    if (this.mayStart(node)) this.readySince.set(node, this.sequence++);
    else this.settle(node, { state: "cancelled", reason: because("cancelled") });
  }

  /** Whether a node may still start under the current stop mode: failure handlers and `always` outlive a stop. */
  mayStart(node: number): boolean {
    const { stopped } = this;
    const mode = this.hooks.runIf(node);
    return stopped === undefined || ((stopped === "failure" || stopped === "abort") && !onSuccess(mode)) || (stopped === "interrupt" && mode === "always");
  }

  settle(node: number, final: Final): void {
    const { finals } = this.board;
    if (finals.has(node)) return;
    finals.set(node, final);
    this.readySince.delete(node);
    this.hooks.settled(node, final);
    this.toEvaluate.push(...(this.dependents[node] ?? []));
    if (this.evaluating) return;
    this.evaluating = true;
    while (this.toEvaluate.length > 0) this.evaluate(this.toEvaluate.pop()!);
    this.evaluating = false;
  }

  private satisfied(d: number): boolean {
    if (!this.graph.selected.has(d)) return true;
    const f = this.board.finals.get(d);
    return f !== undefined && (f.state === "passed" || f.state === "skipped");
  }

  private isBad(d: number): boolean {
    const f = this.board.finals.get(d);
    return this.graph.selected.has(d) && (f?.state === "failed" || f?.state === "blocked");
  }

  private blockedBy(node: number): EndReason {
    const f = this.board.finals.get(node);
    // Name the root cause: a step blocked behind a blocked step is blocked by the same failure.
    return f?.state === "blocked" ? f.reason : { kind: "blocked_by", step: this.graph.ids[node] ?? String(node) };
  }

  /** The held gate behind a node that ended held (itself) or waiting on one (its root). */
  private heldBy(node: number): EndReason | undefined {
    const f = this.board.finals.get(node);
    if (f?.reason.kind === "held") return { kind: "held_by", step: this.graph.ids[node] ?? String(node) };
    return f?.reason.kind === "held_by" ? f.reason : undefined;
  }

  private skippedBy(node: number): EndReason {
    const f = this.board.finals.get(node);
    // Name the root: a step pruned behind a pruned step is skipped by the same one.
    return f?.reason.kind === "skipped_by" ? f.reason : { kind: "skipped_by", step: this.graph.ids[node] ?? String(node) };
  }

  /** Decides a node that has not started: ready, blocked, skipped by its run_if, cancelled by a stop, or not yet. */
  evaluate(node: number): void {
    const { selected, groupOfNode } = this.graph;
    const { finals, running } = this.board;
    if (!selected.has(node) || finals.has(node) || running.has(node) || this.readySince.has(node)) return;
    const gi = groupOfNode.get(node);
    if (gi !== undefined) return this.hooks.evaluateGroup(node, gi);
    const ds = this.waitsOn[node] ?? [];
    const mode = this.hooks.runIf(node);
    if (onSuccess(mode)) {
      const bad = ds.find((d) => this.isBad(d));
      if (bad !== undefined) return this.settle(node, { state: "blocked", reason: this.blockedBy(bad) });
      // Behind a held gate: it waits for that decision, and says whose (not a bare "cancelled").
      const held = ds.find((d) => this.heldBy(d) !== undefined);
      if (held !== undefined) return this.settle(node, { state: "cancelled", reason: this.heldBy(held)! });
    }
    if (!this.mayStart(node)) return this.settle(node, { state: "cancelled", reason: because("cancelled") });
    if (onSuccess(mode)) {
      if (!ds.every((d) => this.satisfied(d))) return;
      const skipped = ds.filter((d) => this.graph.selected.has(d) && this.board.finals.get(d)?.state === "skipped");
      // A skipped dependency prunes its branch; a step that must run anyway says run_if "always".
      // The join after an either/or is pruned only when every branch was (one not in this run
      // passed earlier or is the caller's business, like a passed one).
      const pruned = mode === "success" ? skipped.length > 0 : ds.length > 0 && skipped.length === ds.length;
      if (pruned) return this.settle(node, { state: "skipped", reason: this.skippedBy(skipped[0]!) });
      this.readySince.set(node, this.sequence++);
      return;
    }
    if (!ds.every((d) => !selected.has(d) || finals.has(d))) return;
    // Named by --only with none of its dependencies in the run (a CI job whose `if: failure()` already decided): it runs.
    const decidedElsewhere = this.hooks.named && !ds.some((d) => selected.has(d));
    if (mode === "always" || decidedElsewhere || ds.some((d) => this.isBad(d))) this.readySince.set(node, this.sequence++);
    else this.settle(node, { state: "skipped", reason: { kind: "run_if", condition: "failure" } });
  }

  evaluateAll(): void {
    for (let i = 0; i < this.graph.n; i++) this.evaluate(i);
  }

  /** After a stop: whatever may no longer start ends now, so `always` steps behind it can run. */
  sweep(): void {
    for (let i = 0; i < this.graph.n; i++) if (!this.board.running.has(i)) this.evaluate(i);
    for (const node of [...this.readySince.keys()]) {
      if (this.mayStart(node)) continue;
      this.readySince.delete(node);
      this.settle(node, { state: "cancelled", reason: because("cancelled") });
    }
  }

  /** The run is over: whatever never started is blocked behind a failure, or cancelled by stop/abort. */
  settleRest(): void {
    const { finals } = this.board;
    for (let i = 0; i < this.graph.n; i++) {
      if (!this.graph.selected.has(i) || finals.has(i)) continue;
      const failedDep = (this.graph.deps[i] ?? []).find((d) => {
        const f = finals.get(d);
        return f !== undefined && (f.state === "failed" || f.state === "blocked");
      });
      this.settle(i, failedDep !== undefined ? { state: "blocked", reason: this.blockedBy(failedDep) } : { state: "cancelled", reason: because("cancelled") });
    }
  }
}

/** Modes that need their dependencies to have gone well, and so end with a stop like plain steps. */
function onSuccess(mode: RunIfMode): boolean {
  return mode === "success" || mode === "success_or_skipped";
}

/**
 * What each node waits for. A `failure` node without dependencies handles a failure anywhere in
 * the run, so it waits for every node except the descendants of such handlers (which would wait
 * for it in turn: a cycle).
 */
function effectiveDeps(deps: ReadonlyArray<readonly number[]>, selected: ReadonlySet<number>, runIf: (node: number) => RunIfMode): ReadonlyArray<readonly number[]> {
  const handlers: number[] = [];
  for (const i of selected) if (i < deps.length && runIf(i) === "failure" && (deps[i] ?? []).length === 0) handlers.push(i);
  handlers.sort((a, b) => a - b);
  if (handlers.length === 0) return deps;
  const dependents: number[][] = deps.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]?.push(i)));
  const downstream = new Set<number>(handlers);
  const stack = [...handlers];
  while (stack.length > 0) {
    for (const next of dependents[stack.pop()!] ?? []) {
      if (downstream.has(next)) continue;
      downstream.add(next);
      stack.push(next);
    }
  }
  const watched = [...selected].filter((i) => !downstream.has(i));
  return deps.map((ds, i) => (handlers.includes(i) ? watched : ds));
}
