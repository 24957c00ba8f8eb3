import { describe, expect, it } from "vitest";
import { schedule, type Final, type RunIfMode, type UnitResult } from "../../src/engine/scheduler.js";
import { VirtualClock } from "./virtual-clock.js";

/** run_if in the scheduler: which nodes start, in what state the others end (virtual clock). */

interface Node {
  deps?: number[];
  runIf?: RunIfMode;
  fails?: boolean;
  /** Ends skipped (a false `when`). */
  skips?: boolean;
  ms?: number;
}

async function run(nodes: Node[], opts: { onFailure?: "continue" | "stop" | "abort"; interruptAt?: number; hardAt?: number; maxWorkers?: number } = {}) {
  const clock = new VirtualClock();
  const started: number[] = [];
  const soft = new AbortController();
  const hard = new AbortController();
  if (opts.interruptAt !== undefined) void clock.sleep(opts.interruptAt).then(() => soft.abort());
  if (opts.hardAt !== undefined) void clock.sleep(opts.hardAt).then(() => hard.abort());
  const finals = await clock.drive(
    schedule({
      ids: nodes.map((_, i) => `s${i}`),
      deps: nodes.map((x) => x.deps ?? []),
      selected: new Set(nodes.map((_, i) => i)),
      maxWorkers: opts.maxWorkers ?? 4,
      rateLimitMs: 0,
      onFailure: opts.onFailure ?? "continue",
      runIf: nodes.map((x) => x.runIf ?? "success"),
      clock,
      signal: soft.signal,
      hardSignal: hard.signal,
      run: async (node, signal): Promise<UnitResult> => {
        started.push(node);
        await clock.sleep(nodes[node]?.ms ?? 10, signal);
        if (signal.aborted) return { final: true, state: "cancelled", reason: { kind: "cancelled" } };
        if (nodes[node]?.skips) return { final: true, state: "skipped", reason: { kind: "skipped" } };
        return nodes[node]?.fails ? { final: true, state: "failed", reason: { kind: "exit", code: 1 } } : { final: true, state: "passed", reason: { kind: "passed" } };
      },
    }),
  );
  const state = (i: number) => (finals.get(i) as Final).state;
  return { finals, started, state };
}

describe("scheduler: a skipped step prunes its branch (issue 22)", () => {
  it("its dependents are skipped, naming the root, unless they run_if always; other branches run", async () => {
    const r = await run([{ skips: true }, { deps: [0] }, { deps: [1] }, { deps: [0], runIf: "always" }, {}, { deps: [0, 4], runIf: "failure" }]);
    expect(r.finals.get(1)).toEqual({ state: "skipped", reason: { kind: "skipped_by", step: "s0" } });
    expect(r.finals.get(2)).toEqual({ state: "skipped", reason: { kind: "skipped_by", step: "s0" } });
    expect(r.started).not.toContain(1);
    expect(r.started).not.toContain(2);
    expect(r.state(3)).toBe("passed");
    expect(r.state(4)).toBe("passed");
    expect(r.finals.get(5)).toEqual({ state: "skipped", reason: { kind: "run_if", condition: "failure" } });
  });
});

describe("scheduler: run_if", () => {
  it("always runs after a failed dependency, failure runs only after one, and a success step behind them still runs", async () => {
    const r = await run([
      { fails: true },
      { deps: [0], runIf: "always" },
      { deps: [0], runIf: "failure" },
      { deps: [0] },
      { deps: [1] },
    ]);
    expect(r.state(1)).toBe("passed");
    expect(r.state(2)).toBe("passed");
    expect(r.finals.get(3)).toEqual({ state: "blocked", reason: { kind: "blocked_by", step: "s0" } });
    expect(r.state(4)).toBe("passed");
  });

  it("a failure step whose dependencies passed is skipped with the run_if reason; an always step runs", async () => {
    const r = await run([{}, { deps: [0], runIf: "failure" }, { deps: [0], runIf: "always" }]);
    expect(r.finals.get(1)).toEqual({ state: "skipped", reason: { kind: "run_if", condition: "failure" } });
    expect(r.started).not.toContain(1);
    expect(r.state(2)).toBe("passed");
  });

  it("a failure step behind a blocked dependency runs (its ancestor failed)", async () => {
    const r = await run([{ fails: true }, { deps: [0] }, { deps: [1], runIf: "failure" }]);
    expect(r.state(1)).toBe("blocked");
    expect(r.state(2)).toBe("passed");
  });

  it("a failure step without dependencies waits for the whole run and runs when any step failed", async () => {
    const ok = await run([{ runIf: "failure" }, { ms: 50 }, { deps: [1] }]);
    expect(ok.finals.get(0)).toEqual({ state: "skipped", reason: { kind: "run_if", condition: "failure" } });
    const bad = await run([{ runIf: "failure" }, { ms: 50 }, { deps: [1], fails: true }, { deps: [0] }]);
    expect(bad.started.indexOf(0)).toBeGreaterThan(bad.started.indexOf(2));
    expect(bad.state(0)).toBe("passed");
    // A dependent of the handler is not part of what it watches (that would be a cycle).
    expect(bad.state(3)).toBe("passed");
  });

  it("on_failure stop starts nothing new except always and failure steps", async () => {
    const r = await run([{ fails: true }, { ms: 100 }, { deps: [1] }, { deps: [2], runIf: "always" }, { deps: [0], runIf: "failure" }], { onFailure: "stop" });
    expect(r.state(2)).toBe("cancelled");
    expect(r.state(3)).toBe("passed");
    expect(r.state(4)).toBe("passed");
  });

  it("Ctrl-C cancels running work, then runs the always steps once; a second Ctrl-C skips them", async () => {
    const nodes: Node[] = [{ ms: 100 }, { deps: [0], runIf: "always", ms: 100 }, { deps: [0], runIf: "failure" }, { deps: [0] }];
    const soft = await run(nodes, { interruptAt: 50 });
    expect(soft.state(0)).toBe("cancelled");
    expect(soft.state(1)).toBe("passed");
    expect(soft.state(2)).toBe("cancelled");
    expect(soft.state(3)).toBe("cancelled");
    const hard = await run(nodes, { interruptAt: 50, hardAt: 80 });
    expect(hard.state(1)).toBe("cancelled");
    expect(hard.started).toEqual([0, 1]);
  });
});

describe("scheduler: run_if success_or_skipped, the join after an either/or (issue 34)", () => {
  // 0 decides; 1 and 2 are the branches (a false `when` skips one); 3 joins them.
  const eitherOr = (first: Node, second: Node, join: Node = {}): Node[] => [{}, { deps: [0], ...first }, { deps: [0], ...second }, { deps: [1, 2], runIf: "success_or_skipped", ...join }];

  it("runs once after whichever branch ran, the other skipped", async () => {
    for (const [a, b] of [[{ skips: true }, {}], [{}, { skips: true }]] as Array<[Node, Node]>) {
      const r = await run(eitherOr(a, b));
      expect(r.state(3)).toBe("passed");
      expect(r.started.filter((n) => n === 3)).toHaveLength(1);
      // It starts after both branches ended: the one that ran and the one that skipped itself.
      expect(r.started.indexOf(3)).toBeGreaterThan(Math.max(r.started.indexOf(1), r.started.indexOf(2)));
    }
  });

  it("runs when both branches passed, like a plain step", async () => {
    const r = await run(eitherOr({}, {}));
    expect(r.state(3)).toBe("passed");
  });

  it("is skipped, naming the root, when every branch was skipped; a plain step behind it too", async () => {
    const nodes = [...eitherOr({ skips: true }, { skips: true }), { deps: [3] }];
    const r = await run(nodes);
    expect(r.finals.get(3)).toEqual({ state: "skipped", reason: { kind: "skipped_by", step: "s1" } });
    expect(r.finals.get(4)).toEqual({ state: "skipped", reason: { kind: "skipped_by", step: "s1" } });
    expect(r.started).not.toContain(3);
  });

  it("is blocked by a failed branch, even when the other passed", async () => {
    const r = await run(eitherOr({ fails: true }, {}));
    expect(r.finals.get(3)).toEqual({ state: "blocked", reason: { kind: "blocked_by", step: "s1" } });
    const skippedToo = await run(eitherOr({ fails: true }, { skips: true }));
    expect(skippedToo.finals.get(3)).toEqual({ state: "blocked", reason: { kind: "blocked_by", step: "s1" } });
  });

  it("ends with a stop like a plain step (it is no failure handler)", async () => {
    const r = await run([{ fails: true }, { ms: 100 }, { deps: [1], runIf: "success_or_skipped" }], { onFailure: "stop" });
    expect(r.state(2)).toBe("cancelled");
    expect(r.started).not.toContain(2);
  });
});
