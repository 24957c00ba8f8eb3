import type { Clock } from "./clock.js";
import { because, type EndReason } from "../events/end-reason.js";
import type { Final, SchedulerGroup, UnitResult } from "./scheduler.js";

/**
 * Groups as the scheduler sees them: the graph with a virtual node per `succeed: "any"` group, and
 * what such a group decides at run time (it passes with its first passed member, a race stops the
 * others, a group timeout stops them all). Member limits (sequential, max_workers) are admission's.
 */

/** The graph the scheduler walks: the steps, then one virtual node per `any` group. */
export interface SchedulerGraph {
  /** Steps are nodes [0, steps); `any` groups follow. */
  steps: number;
  n: number;
  ids: readonly string[];
  /** deps[i]: what node i depends on, an `any` group as its virtual node. */
  deps: ReadonlyArray<readonly number[]>;
  selected: ReadonlySet<number>;
  groups: ReadonlyArray<SchedulerGroup>;
  /** Group index → its virtual node, for `any` groups. */
  groupNode: ReadonlyMap<number, number>;
  /** Virtual node → its group index. */
  groupOfNode: ReadonlyMap<number, number>;
  /** groupsOf[node]: the groups the step is a member of. */
  groupsOf: ReadonlyArray<readonly number[] | undefined>;
}

/** What the scheduler's modules share: set by the main loop and readiness, read by the rest. */
export interface Board {
  readonly finals: Map<number, Final>;
  readonly running: Map<number, AbortController>;
}

export function buildGraph(options: {
  ids: readonly string[];
  deps: number[][];
  selected: ReadonlySet<number>;
  groups?: ReadonlyArray<SchedulerGroup> | undefined;
  groupDeps?: readonly number[][] | undefined;
}): SchedulerGraph {
  const steps = options.deps.length;
  // An `any` group is a virtual node after the steps: it depends on its members, never runs, and
  // its result (passed once a member passes) is what its dependents wait for.
  const groups = options.groups ?? [];
  const groupNode = new Map<number, number>();
  groups.forEach((g, gi) => {
    if (g.succeed === "any") groupNode.set(gi, steps + groupNode.size);
  });
  const groupOfNode = new Map([...groupNode].map(([gi, node]) => [node, gi]));
  const n = steps + groupNode.size;
  // Per-node structures are shared or made only where needed: `--only` of 3 steps of 50 000 built
  // five arrays of 50 000 arrays here (bench/scale.mjs).
  const deps: Array<readonly number[]> = options.deps.map((ds, i) => {
    const anyOf = options.groupDeps?.[i];
    return anyOf?.length ? [...ds, ...anyOf.map((gi) => groupNode.get(gi)).filter((x): x is number => x !== undefined)] : ds;
  });
  for (const [gi] of groupNode) deps.push(groups[gi]?.members ?? []);
  const selected = new Set(options.selected);
  for (const [gi, node] of groupNode) if (groups[gi]?.members.some((m) => selected.has(m))) selected.add(node);
  const ids = [...options.ids, ...[...groupNode.keys()].map((gi) => groups[gi]?.id ?? `group-${gi}`)];
  const groupsOf: Array<number[] | undefined> = [];
  groups.forEach((g, gi) => g.members.forEach((m) => m < n && (groupsOf[m] ??= []).push(gi)));
  return { steps, n, ids, deps, selected, groups, groupNode, groupOfNode, groupsOf };
}

export class AnyGroups {
  /** Why a running unit was aborted, when it was not a plain cancellation (a lost race, a group timeout). */
  private readonly abortedWith = new Map<number, EndReason>();
  private readonly timers: AbortController[] = [];

  constructor(
    private readonly graph: SchedulerGraph,
    private readonly board: Board,
    private readonly hooks: { clock: Clock; settle: (node: number, final: Final) => void; wake: () => void },
  ) {}

  /** The group of a virtual node, if it is one. */
  groupOf(node: number): number | undefined {
    return this.graph.groupOfNode.get(node);
  }

  /** Stops a group's members that have not ended: running ones aborted with `reason`, the rest settled. */
  private stopMembers(gi: number, reason: EndReason, keep?: number): void {
    const { finals, running } = this.board;
    for (const m of this.graph.groups[gi]?.members ?? []) {
      if (m === keep || finals.has(m) || !this.graph.selected.has(m)) continue;
      const controller = running.get(m);
      if (controller) {
        this.abortedWith.set(m, reason);
        controller.abort(reason);
      } else {
        this.hooks.settle(m, { state: "cancelled", reason });
      }
    }
  }

  /** An `any` group's node: passed with its first passed member (a race: once it stopped the others), failed when none can pass. */
  evaluate(node: number, gi: number): void {
    const { finals } = this.board;
    const { settle } = this.hooks;
    const group = this.graph.groups[gi];
    const members = (group?.members ?? []).filter((m) => this.graph.selected.has(m));
    const winner = members.find((m) => finals.get(m)?.state === "passed");
    if (winner !== undefined && group?.cancelRest) {
      this.stopMembers(gi, because("lost_race"), winner);
      // Dependents start once the losers have ended and dropped their changes, never beside them.
      if (members.every((m) => finals.has(m))) settle(node, { state: "passed", reason: because("passed") });
      return;
    }
    if (winner !== undefined || members.length === 0) return settle(node, { state: "passed", reason: because("passed") });
    if (!members.every((m) => finals.has(m))) return;
    if (members.every((m) => finals.get(m)?.state === "skipped")) return settle(node, { state: "skipped", reason: because("skipped") });
    const timedOut = members.some((m) => finals.get(m)?.reason.kind === "group_timeout");
    settle(node, { state: "failed", reason: because(timedOut ? "group_timeout" : "tests_failed") });
  }

  /** A node starts: the timeout of each of its groups runs from the first member's start. */
  started(node: number): void {
    for (const gi of this.graph.groupsOf[node] ?? []) {
      const group = this.graph.groups[gi];
      if (!group?.timeoutMs || this.timers[gi]) continue;
      const controller = (this.timers[gi] = new AbortController());
      void this.hooks.clock.sleep(group.timeoutMs, controller.signal).then(() => {
        if (controller.signal.aborted) return;
        this.stopMembers(gi, because("group_timeout"));
        this.hooks.wake();
      });
    }
  }

  /** The unit reports a plain cancellation; the scheduler knows when it was a lost race or a group timeout. */
  finalOf(node: number, result: UnitResult & { final: true }): Final {
    const why = result.state === "cancelled" ? this.abortedWith.get(node) : undefined;
    return why ? { state: why.kind === "group_timeout" ? "failed" : "cancelled", reason: why } : { state: result.state, reason: result.reason };
  }

  /** Whether a node that just ended failed the run: a failed member of an `any` group does only once its group has failed. */
  failsRun(node: number): boolean {
    const { finals } = this.board;
    const { groupsOf, groupNode, steps } = this.graph;
    const failedNow = [node, ...(groupsOf[node] ?? []).map((g) => groupNode.get(g)).filter((x): x is number => x !== undefined)].filter((x) => finals.get(x)?.state === "failed");
    return failedNow.some((x) => x >= steps || !(groupsOf[x] ?? []).some((g) => groupNode.has(g)));
  }

  dispose(): void {
    for (const controller of this.timers) controller?.abort();
  }
}
