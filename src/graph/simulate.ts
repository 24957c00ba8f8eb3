/**
 * The run a plan expects, played on a virtual clock: list scheduling with the scheduler's own
 * rules (engine/admission.ts) — the ready step with the highest priority starts when a worker is
 * free and no limit holds it: a sequential group's order, a group's max_workers, file_conflicts
 * "serialize" pairs, the rate limit. `max(critical path, work / workers)` is only a lower bound:
 * it ignored all of these, and a sequential group of four came out at a quarter of its time.
 *
 * Pure and O(n log n): a dry run of 50 000 steps plays it too. The property test checks it against
 * the scheduler itself on a virtual clock (test/engine/simulate.test.ts).
 */

export interface SimulationGroup {
  members: readonly number[];
  sequential: boolean;
  maxWorkers?: number | undefined;
}

export interface SimulationInput {
  /** deps[i]: the nodes i waits for (groups expanded). */
  deps: readonly (readonly number[])[];
  /** Nodes the run starts; the others count as done from the start, as the scheduler counts them. */
  selected: (node: number) => boolean;
  /** How long a node holds its worker (ms): its own time and ws's per-step overhead. */
  durationMs: (node: number) => number;
  workers: number;
  /** Higher starts first; ties by node index, as admission breaks them. */
  priority?: readonly number[] | undefined;
  groups?: readonly SimulationGroup[] | undefined;
  exclusive?: ReadonlyArray<readonly [number, number]> | undefined;
  /** Minimum gap between two starts, ms. */
  rateLimitMs?: number | undefined;
}

export interface Simulation {
  /** ms from the run's start; NaN for a node the run does not start (or one a cycle holds). */
  start: Float64Array;
  end: Float64Array;
  /** When the last selected node ends. */
  makespanMs: number;
}

/** A binary min-heap over `less`; small on purpose (no dependency for forty lines). */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

export function simulateRun(input: SimulationInput): Simulation {
  const n = input.deps.length;
  const start = new Float64Array(n).fill(NaN);
  const end = new Float64Array(n).fill(NaN);
  const workers = Math.max(1, input.workers);
  const rate = Math.max(0, input.rateLimitMs ?? 0);
  const priority = input.priority;
  const better = (a: number, b: number) => {
    const pa = priority?.[a] ?? 0;
    const pb = priority?.[b] ?? 0;
    return pa !== pb ? pa > pb : a < b;
  };

  const { pending, after, groupsOf, conflicts } = constraints(input, n);
  const groupRunning = new Int32Array(input.groups?.length ?? 0);
  // A node a full group holds waits in that group's own queue; a member's end lets the best one
  // back: a group of 50 000 with max_workers 2 is not scanned again at every end (that was
  // quadratic: 1.3 s for 2000 members).
  const groupQueue = (input.groups ?? []).map(() => new Heap<number>(better));
  const conflictQueue = new Map<number, number[]>();

  const ready = new Heap<number>(better);
  const running = new Heap<number>((a, b) => end[a]! < end[b]! || (end[a] === end[b] && a < b));
  for (let node = 0; node < n; node++) if (input.selected(node) && pending[node] === 0) ready.push(node);

  const finished = new Uint8Array(n);
  let now = 0;
  let lastStart = -Infinity;
  let makespan = 0;
  const holdBy = (node: number): (() => void) | undefined => {
    const full = groupsOf[node]!.find((gi) => groupRunning[gi]! >= (input.groups![gi]!.maxWorkers ?? Infinity));
    if (full !== undefined) return () => groupQueue[full]!.push(node);
    const busy = conflicts[node]!.find((other) => !Number.isNaN(start[other]!) && !finished[other]);
    if (busy !== undefined) {
      return () => {
        const queue = conflictQueue.get(busy);
        if (queue) queue.push(node);
        else conflictQueue.set(busy, [node]);
      };
    }
    return undefined;
  };

  for (;;) {
    // Admit: the best ready node no limit holds, while a worker is free and the rate allows.
    while (running.size < workers && ready.size > 0 && now >= lastStart + rate) {
      const node = ready.pop()!;
      const hold = holdBy(node);
      if (hold) {
        hold();
        // It may have been the waiter a group let go for a free slot: the group's next gets its turn.
        for (const gi of groupsOf[node]!) {
          if (groupRunning[gi]! < (input.groups![gi]!.maxWorkers ?? Infinity)) {
            const next = groupQueue[gi]!.pop();
            if (next !== undefined) ready.push(next);
          }
        }
        continue;
      }
      start[node] = now;
      end[node] = now + Math.max(0, input.durationMs(node));
      lastStart = now;
      for (const gi of groupsOf[node]!) groupRunning[gi]!++;
      running.push(node);
    }
    const nextEnd = running.peek();
    const rateAt = ready.size > 0 && running.size < workers ? lastStart + rate : Infinity;
    const next = Math.min(nextEnd === undefined ? Infinity : end[nextEnd]!, rateAt);
    if (next === Infinity) break;
    now = Math.max(now, next);
    // Every node that ends by now, before admitting again (they free their workers together).
    while (running.size > 0 && end[running.peek()!]! <= now) {
      const node = running.pop()!;
      finished[node] = 1;
      makespan = Math.max(makespan, end[node]!);
      for (const gi of groupsOf[node]!) {
        groupRunning[gi]!--;
        // The best waiter takes the freed slot; if something else holds it, admission lets the next one try.
        const back = groupQueue[gi]!.pop();
        if (back !== undefined) ready.push(back);
      }
      for (const back of conflictQueue.get(node) ?? []) ready.push(back);
      conflictQueue.delete(node);
      for (const next of after[node]!) if (--pending[next]! === 0) ready.push(next);
    }
  }
  return { start, end, makespanMs: makespan };
}

/**
 * The run's constraints as the simulation walks them: what each node still waits for, who waits
 * on it, the capped groups each node is in, and the nodes it must not run beside.
 */
function constraints(input: SimulationInput, n: number): { pending: Int32Array; after: number[][]; groupsOf: number[][]; conflicts: number[][] } {
  // What each node still waits for: its selected dependencies, and in a sequential group the
  // selected member listed before it. One edge to that member is the whole rule: admission wants
  // every earlier selected member ended, and that one ends only after the ones before it.
  const pending = new Int32Array(n);
  const after: number[][] = Array.from({ length: n }, () => []);
  for (let node = 0; node < n; node++) {
    if (!input.selected(node)) continue;
    for (const dep of input.deps[node]!) {
      if (!input.selected(dep)) continue;
      pending[node]!++;
      after[dep]!.push(node);
    }
  }
  const groupsOf: number[][] = Array.from({ length: n }, () => []);
  (input.groups ?? []).forEach((group, gi) => {
    const members = group.members.filter((m) => m < n && input.selected(m));
    if (group.sequential) {
      for (let k = 1; k < members.length; k++) {
        pending[members[k]!]!++;
        after[members[k - 1]!]!.push(members[k]!);
      }
    }
    if (group.maxWorkers !== undefined && !group.sequential) {
      for (const m of members) groupsOf[m]!.push(gi);
    }
  });
  const conflicts: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of input.exclusive ?? []) {
    if (a < n && b < n) {
      conflicts[a]!.push(b);
      conflicts[b]!.push(a);
    }
  }
  return { pending, after, groupsOf, conflicts };
}
