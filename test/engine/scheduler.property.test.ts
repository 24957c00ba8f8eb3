import { reason } from "../helpers/reasons.js";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { schedule, type Final, type UnitResult } from "../../src/engine/scheduler.js";
import { VirtualClock } from "./virtual-clock.js";

interface Case {
  n: number;
  deps: number[][];
  durations: number[];
  fails: boolean[];
  maxWorkers: number;
  rateLimitMs: number;
  exclusive: Array<[number, number]>;
  sequential: number[];
}

/** Random DAGs: edges only from a lower to a higher index, so no cycles by construction. */
const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    deps: fc.tuple(...Array.from({ length: n }, (_, i) => fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: Math.min(i, 3) }))),
    durations: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: n, maxLength: n }),
    fails: fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((a) => a.map((x, i) => x && i % 3 === 0)),
    maxWorkers: fc.integer({ min: 1, max: 4 }),
    rateLimitMs: fc.constantFrom(0, 0, 5),
    exclusive: fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), { maxLength: 3 }).map((ps) => ps.filter(([a, b]) => a !== b)),
    sequential: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: Math.min(n, 3) }).map((a) => a.sort((x, y) => x - y)),
  }),
);

async function simulate(c: Case, onFailure: "continue" | "stop" | "abort") {
  const clock = new VirtualClock();
  const intervals: Array<{ node: number; start: number; end: number }> = [];
  let running = 0;
  let maxRunning = 0;
  const finals = await clock.drive(
    schedule({
      ids: Array.from({ length: c.n }, (_, i) => `s${i}`),
      deps: c.deps,
      selected: new Set(Array.from({ length: c.n }, (_, i) => i)),
      maxWorkers: c.maxWorkers,
      rateLimitMs: c.rateLimitMs,
      onFailure,
      priority: c.durations,
      exclusive: c.exclusive,
      groups: c.sequential.length > 1 ? [{ members: c.sequential, sequential: true }] : [],
      clock,
      run: async (node, signal): Promise<UnitResult> => {
        const start = clock.now();
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await clock.sleep(c.durations[node]!, signal);
        running -= 1;
        intervals.push({ node, start, end: clock.now() });
        if (signal.aborted) return { final: true, state: "cancelled", reason: reason("cancelled") };
        return c.fails[node] ? { final: true, state: "failed", reason: reason("exit:1") } : { final: true, state: "passed", reason: reason("passed") };
      },
    }),
  );
  return { finals, intervals, maxRunning };
}

function overlaps(a: { start: number; end: number }, b: { start: number; end: number }) {
  return a.start < b.end && b.start < a.end;
}

describe("scheduler invariants on random DAGs (virtual clock)", () => {
  it("respects dependencies, the worker limit, exclusivity, rate limit and sequential groups; blocks exactly the failures' descendants", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { finals, intervals, maxRunning } = await simulate(c, "continue");
        expect(maxRunning).toBeLessThanOrEqual(c.maxWorkers);
        const at = new Map(intervals.map((iv) => [iv.node, iv]));
        // Every step ends; a step ran iff none of its ancestors failed.
        const failedAncestor = (i: number, seen = new Set<number>()): boolean =>
          c.deps[i]!.some((d) => !seen.has(d) && (seen.add(d), c.fails[d] || failedAncestor(d, seen)));
        for (let i = 0; i < c.n; i++) {
          const f = finals.get(i) as Final;
          expect(f).toBeDefined();
          if (failedAncestor(i)) {
            expect(f.state).toBe("blocked");
            expect(at.has(i)).toBe(false);
          } else {
            expect(f.state).toBe(c.fails[i] ? "failed" : "passed");
            // No step before its dependencies ended.
            for (const d of c.deps[i]!) expect(at.get(i)!.start).toBeGreaterThanOrEqual(at.get(d)!.end);
          }
        }
        for (const [a, b] of c.exclusive) {
          const ia = at.get(a);
          const ib = at.get(b);
          if (ia && ib) expect(overlaps(ia, ib)).toBe(false);
        }
        const starts = intervals.map((iv) => iv.start).sort((x, y) => x - y);
        for (let k = 1; k < starts.length; k++) expect(starts[k]! - starts[k - 1]!).toBeGreaterThanOrEqual(c.rateLimitMs);
        if (c.sequential.length > 1) {
          const ran = c.sequential.map((m) => at.get(m)).filter((iv) => iv !== undefined);
          for (let k = 1; k < ran.length; k++) expect(ran[k]!.start).toBeGreaterThanOrEqual(ran[k - 1]!.end);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("keeps every worker busy when there is ready work (no idle worker beside a startable step)", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c0) => {
        const c = { ...c0, rateLimitMs: 0, exclusive: [], sequential: [], fails: c0.fails.map(() => false) };
        const { intervals } = await simulate(c, "continue");
        const at = new Map(intervals.map((iv) => [iv.node, iv]));
        // At each start time of a step, if fewer than maxWorkers ran, the step must have become ready just then.
        for (const iv of intervals) {
          const readyAt = Math.max(0, ...c.deps[iv.node]!.map((d) => at.get(d)!.end));
          if (iv.start > readyAt) {
            const busy = intervals.filter((o) => o.start < iv.start && o.end >= iv.start).length;
            expect(busy).toBeGreaterThanOrEqual(c.maxWorkers - 0);
          }
        }
      }),
      { numRuns: 100, interruptAfterTimeLimit: 20_000 },
    );
  });

  it("stop starts nothing after the first failure; abort also cancels running steps", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c0) => {
        const c = { ...c0, exclusive: [], sequential: [] };
        for (const policy of ["stop", "abort"] as const) {
          const { finals, intervals } = await simulate(c, policy);
          const firstFailEnd = Math.min(...intervals.filter((iv) => c.fails[iv.node]).map((iv) => iv.end));
          for (const iv of intervals) expect(iv.start).toBeLessThanOrEqual(firstFailEnd);
          for (let i = 0; i < c.n; i++) expect(finals.get(i)).toBeDefined();
          if (policy === "abort" && Number.isFinite(firstFailEnd)) {
            for (const iv of intervals) if (iv.end > firstFailEnd) expect(finals.get(iv.node)!.state).toBe("cancelled");
          }
        }
      }),
      { numRuns: 80 },
    );
  });
});

describe("scheduler: priorities and retries", () => {
  it("starts the ready step with the highest priority first, ties in file order", async () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    await clock.drive(
      schedule({
        ids: ["a", "b", "c", "d"],
        deps: [[], [], [], []],
        selected: new Set([0, 1, 2, 3]),
        maxWorkers: 1,
        rateLimitMs: 0,
        onFailure: "continue",
        priority: [1, 5, 5, 3],
        clock,
        run: async (node) => {
          order.push(node);
          return { final: true, state: "passed", reason: reason("passed") };
        },
      }),
    );
    expect(order).toEqual([1, 2, 3, 0]);
  });

  it("requeues a unit that is not final, and a gate refusal delays it until the gate opens", async () => {
    const clock = new VirtualClock();
    const starts: Array<[number, number]> = [];
    let calls = 0;
    const finals = await clock.drive(
      schedule({
        ids: ["a", "b"],
        deps: [[], [0]],
        selected: new Set([0, 1]),
        maxWorkers: 2,
        rateLimitMs: 0,
        onFailure: "continue",
        clock,
        gate: () => (clock.now() < 100 && calls > 0 ? { ok: false, retryInMs: 100 - clock.now() } : { ok: true }),
        run: async (node) => {
          starts.push([node, clock.now()]);
          calls += 1;
          await clock.sleep(10);
          return calls < 2 ? { final: false } : { final: true, state: "passed", reason: reason("passed") };
        },
      }),
    );
    expect(starts).toEqual([[0, 0], [0, 100], [1, 110]]);
    expect(finals.get(1)?.state).toBe("passed");
  });

  it("names the root failure in blocked_by for transitive dependents", async () => {
    const clock = new VirtualClock();
    const finals = await clock.drive(
      schedule({
        ids: ["a", "b", "c"],
        deps: [[], [0], [1]],
        selected: new Set([0, 1, 2]),
        maxWorkers: 2,
        rateLimitMs: 0,
        onFailure: "continue",
        clock,
        run: async () => ({ final: true, state: "failed", reason: reason("exit:1") }),
      }),
    );
    expect(finals.get(1)).toEqual({ state: "blocked", reason: reason("blocked_by:a") });
    expect(finals.get(2)).toEqual({ state: "blocked", reason: reason("blocked_by:a") });
  });
});
