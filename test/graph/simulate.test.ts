import { reason } from "../helpers/reasons.js";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { schedule, type SchedulerGroup, type UnitResult } from "../../src/engine/scheduler.js";
import { simulateRun } from "../../src/graph/simulate.js";
import { VirtualClock } from "../engine/virtual-clock.js";

interface Case {
  n: number;
  deps: number[][];
  durations: number[];
  priority: number[];
  workers: number;
  rateLimitMs: number;
  exclusive: Array<[number, number]>;
  sequential: number[];
  limited: number[];
  groupWorkers: number;
  /** A second capped group, overlapping the first: a node may wait for either. */
  limited2: number[];
  selected: boolean[];
}

/**
 * Durations with a distinct binary fraction per node (2^-(i+1)): no two different nodes can end at
 * the same moment, so the scheduler's order of settling simultaneous ends cannot make a tie
 * decide differently from the simulation. Exact in doubles.
 */
const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    deps: fc.tuple(...Array.from({ length: n }, (_, i) => fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: Math.min(i, 3) }))),
    durations: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: n, maxLength: n }).map((a) => a.map((d, i) => d + 2 ** -(i + 1))),
    priority: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: n, maxLength: n }),
    workers: fc.integer({ min: 1, max: 4 }),
    rateLimitMs: fc.constantFrom(0, 0, 5),
    exclusive: fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), { maxLength: 3 }).map((ps) => ps.filter(([a, b]) => a !== b)),
    sequential: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: Math.min(n, 4) }).map((a) => a.sort((x, y) => x - y)),
    limited: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
    groupWorkers: fc.integer({ min: 1, max: 2 }),
    limited2: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
    selected: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.map((x) => x < 8)),
  }),
);

function groupsOf(c: Case): SchedulerGroup[] {
  return [
    ...(c.sequential.length > 1 ? [{ members: c.sequential, sequential: true }] : []),
    ...(c.limited.length > 1 ? [{ members: c.limited, sequential: false, maxWorkers: c.groupWorkers }] : []),
    ...(c.limited2.length > 1 ? [{ members: c.limited2, sequential: false, maxWorkers: 1 }] : []),
  ];
}

/** The scheduler itself, every unit sleeping its duration on a virtual clock. */
async function scheduled(c: Case): Promise<Map<number, { start: number; end: number }>> {
  const clock = new VirtualClock();
  const at = new Map<number, { start: number; end: number }>();
  const selected = new Set(c.selected.flatMap((s, i) => (s ? [i] : [])));
  await clock.drive(
    schedule({
      ids: Array.from({ length: c.n }, (_, i) => `s${i}`),
      deps: c.deps,
      selected,
      maxWorkers: c.workers,
      rateLimitMs: c.rateLimitMs,
      onFailure: "continue",
      priority: c.priority,
      exclusive: c.exclusive,
      groups: groupsOf(c),
      clock,
      run: async (node, signal): Promise<UnitResult> => {
        const start = clock.now();
        await clock.sleep(c.durations[node]!, signal);
        at.set(node, { start, end: clock.now() });
        return { final: true, state: "passed", reason: reason("passed") };
      },
    }),
  );
  return at;
}

describe("the plan's simulation of a run", () => {
  it("starts and ends every step when the scheduler does, on random DAGs with workers, groups, conflicts and a rate limit", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const real = await scheduled(c);
        const sim = simulateRun({
          deps: c.deps,
          selected: (node) => c.selected[node] === true,
          durationMs: (node) => c.durations[node]!,
          workers: c.workers,
          priority: c.priority,
          groups: groupsOf(c),
          exclusive: c.exclusive,
          rateLimitMs: c.rateLimitMs,
        });
        for (let node = 0; node < c.n; node++) {
          const got = real.get(node);
          if (!c.selected[node]) {
            expect(got).toBeUndefined();
            expect(sim.start[node]).toBeNaN();
            continue;
          }
          expect({ node, start: sim.start[node], end: sim.end[node] }).toEqual({ node, ...got });
        }
        const makespan = Math.max(0, ...[...real.values()].map((iv) => iv.end));
        expect(sim.makespanMs).toBe(makespan);
      }),
      { numRuns: 300 },
    );
  });

  it("runs a sequential group one member at a time in its listed order, and a group's max_workers caps its members", () => {
    const deps = [[], [], [], []];
    const all = () => true;
    const sequential = simulateRun({ deps, selected: all, durationMs: () => 100, workers: 4, groups: [{ members: [3, 1, 2, 0], sequential: true }] });
    expect([...sequential.start]).toEqual([300, 100, 200, 0]);
    expect(sequential.makespanMs).toBe(400);
    const capped = simulateRun({ deps, selected: all, durationMs: () => 100, workers: 4, groups: [{ members: [0, 1, 2, 3], sequential: false, maxWorkers: 2 }] });
    expect(capped.makespanMs).toBe(200);
  });
});
