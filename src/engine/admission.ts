import type { Clock } from "./clock.js";
import type { Board, SchedulerGraph } from "./any-groups.js";
import type { Gate } from "./scheduler.js";
import type { Readiness } from "./readiness.js";
import type { WaitKind } from "../events/run-event.js";

/**
 * Which ready node starts now: the best by priority (critical path) or readiness order that no
 * limit holds back: the worker limit, the rate limit, exclusive pairs (file_conflicts), a group's
 * sequential order and max_workers, and last the gate (approvals, breakers), asked only for a
 * node that would otherwise start, since asking may have effects (an approval starts waiting).
 * A retry within its retry_delay is held first: it waits in the ready set, not on a worker.
 */
export class Admission {
  private lastStart = -Infinity;
  /** What each held node was last said to wait for, so a cause is reported once. */
  private readonly held = new Map<number, WaitKind>();
  private readonly conflictsOf: Array<number[] | undefined> = [];
  /** Retries within their delay: when each may start (epoch ms). */
  private readonly notBefore = new Map<number, number>();

  constructor(
    private readonly graph: SchedulerGraph,
    private readonly board: Board,
    private readonly readiness: Readiness,
    private readonly limits: {
      clock: Clock;
      /** Read at every admission, so the limit may change while the run goes on. */
      workers: () => number;
      /** Minimum gap between two starts, ms. */
      rateLimitMs: number;
      exclusive?: ReadonlyArray<readonly [number, number]> | undefined;
      priority?: readonly number[] | undefined;
      gate?: ((node: number) => Gate) | undefined;
      /** A ready node is held back, or by something else than before (not called again for the same cause); `until` for a retry. */
      onWait?: ((node: number, wait: WaitKind, until?: number) => void) | undefined;
      /** Retry delays carried over from an interrupted run (epoch ms). */
      notBefore?: ReadonlyMap<number, number> | undefined;
    },
  ) {
    const { n } = graph;
    for (const [node, at] of limits.notBefore ?? []) this.holdUntil(node, at);
    for (const [a, b] of limits.exclusive ?? []) {
      if (a < n) (this.conflictsOf[a] ??= []).push(b);
      if (b < n) (this.conflictsOf[b] ??= []).push(a);
    }
  }

  /** The node (a retry) may not start before `at` (epoch ms). */
  holdUntil(node: number, at: number): void {
    if (at > this.limits.clock.now()) this.notBefore.set(node, at);
  }

  /** Ms until the node's retry delay ends; 0 when it has none left. */
  private delayLeft(node: number, now: number): number {
    const at = this.notBefore.get(node);
    if (at === undefined) return 0;
    if (at > now) return at - now;
    this.notBefore.delete(node);
    return 0;
  }

  /** Higher priority first, ties by node index (file order); without priorities, the order of becoming ready. */
  private better(a: number, b: number): boolean {
    const { priority } = this.limits;
    if (priority) {
      const pa = priority[a] ?? 0;
      const pb = priority[b] ?? 0;
      if (pa !== pb) return pa > pb;
      return a < b;
    }
    return this.readiness.order(a) < this.readiness.order(b);
  }

  private groupAllows(node: number): boolean {
    const { running, finals } = this.board;
    return (this.graph.groupsOf[node] ?? []).every((gi) => {
      const group = this.graph.groups[gi];
      if (!group) return true;
      const members = group.members;
      const active = members.filter((m) => running.has(m)).length;
      if (group.sequential) {
        if (active > 0) return false;
        // Listed order: every earlier selected member must have ended.
        for (const m of members) {
          if (m === node) break;
          if (this.graph.selected.has(m) && !finals.has(m)) return false;
        }
      }
      return group.maxWorkers === undefined || active < group.maxWorkers;
    });
  }

  /**
   * Starts what may start now, one `start` at a time (each start changes what the next may do).
   * Returns in how many ms to ask again for a node held back by time (rate limit, a gate), or
   * Infinity when only an ending unit can change anything.
   */
  admit(start: (node: number, token: unknown) => void): number {
    const { clock, rateLimitMs, gate } = this.limits;
    const { running } = this.board;
    let nextWakeIn = Infinity;
    // Why the nodes left in the ready set did not start: one cause for all, or each its own.
    let cause: WaitKind | Map<number, WaitKind> = "worker";
    while (running.size < this.limits.workers() && this.readiness.size > 0) {
      const waitForRate = this.lastStart + rateLimitMs - clock.now();
      if (waitForRate > 0) {
        nextWakeIn = Math.min(nextWakeIn, waitForRate);
        cause = "rate_limit";
        break;
      }
      let best: number | undefined;
      let bestToken: unknown;
      const holds = new Map<number, WaitKind>();
      const now = clock.now();
      for (const node of this.readiness.ready()) {
        if (best !== undefined && !this.better(node, best)) continue;
        if (this.delayLeft(node, now) > 0) {
          holds.set(node, "retry");
          continue;
        }
        if ((this.conflictsOf[node] ?? []).some((c) => running.has(c))) {
          holds.set(node, "conflict");
          continue;
        }
        if (!this.groupAllows(node)) {
          holds.set(node, "group");
          continue;
        }
        const verdict = gate?.(node) ?? { ok: true };
        if (!verdict.ok) {
          nextWakeIn = Math.min(nextWakeIn, verdict.retryInMs);
          holds.set(node, "gate");
          continue;
        }
        best = node;
        bestToken = verdict.token;
      }
      if (best === undefined) {
        // Every ready node was looked at and held by its own cause.
        cause = holds;
        break;
      }
      this.lastStart = clock.now();
      this.held.delete(best);
      start(best, bestToken);
    }
    // A retry's delay ends on its own: wake then, whatever else holds the run (busy workers, the rate limit).
    const now = clock.now();
    for (const [node, at] of this.notBefore) {
      if (this.board.finals.has(node)) this.notBefore.delete(node);
      else if (at > now) nextWakeIn = Math.min(nextWakeIn, at - now);
    }
    if (this.limits.onWait) this.report(cause, this.limits.onWait, now);
    return nextWakeIn;
  }

  private report(cause: WaitKind | Map<number, WaitKind>, onWait: (node: number, wait: WaitKind, until?: number) => void, now: number): void {
    for (const node of this.readiness.ready()) {
      // Within its delay a retry waits for that, even when no worker is free either.
      const left = this.delayLeft(node, now);
      const wait = left > 0 ? "retry" : typeof cause === "string" ? cause : cause.get(node);
      if (wait === undefined || this.held.get(node) === wait) continue;
      this.held.set(node, wait);
      if (wait === "retry") onWait(node, wait, now + left);
      else onWait(node, wait);
    }
  }
}
