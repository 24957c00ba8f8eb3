import { describe, expect, it } from "vitest";
import { schedule, type SchedulerGroup, type UnitResult } from "../../src/engine/scheduler.js";
import { VirtualClock } from "./virtual-clock.js";

/** any-of groups, races and group timeouts in the scheduler (virtual clock). */

interface Node {
  deps?: number[];
  groupDeps?: number[];
  fails?: boolean;
  ms?: number;
}

async function run(nodes: Node[], groups: SchedulerGroup[], onFailure: "continue" | "stop" = "continue") {
  const clock = new VirtualClock();
  const started: Array<[number, number]> = [];
  const finals = await clock.drive(
    schedule({
      ids: nodes.map((_, i) => `s${i}`),
      deps: nodes.map((x) => x.deps ?? []),
      groupDeps: nodes.map((x) => x.groupDeps ?? []),
      selected: new Set(nodes.map((_, i) => i)),
      maxWorkers: 4,
      rateLimitMs: 0,
      onFailure,
      groups,
      clock,
      run: async (node, signal): Promise<UnitResult> => {
        started.push([node, clock.now()]);
        await clock.sleep(nodes[node]?.ms ?? 10, signal);
        if (signal.aborted) return { final: true, state: "cancelled", reason: { kind: "cancelled" } };
        return nodes[node]?.fails ? { final: true, state: "failed", reason: { kind: "exit", code: 1 } } : { final: true, state: "passed", reason: { kind: "passed" } };
      },
    }),
  );
  return { finals, started, clock };
}

describe("scheduler: step groups", () => {
  it("succeed any: a dependent runs once one member passed, though another failed; stop is not triggered by the failed member", async () => {
    const r = await run([{ fails: true, ms: 5 }, { ms: 20 }, { groupDeps: [0] }], [{ id: "g", members: [0, 1], sequential: false, succeed: "any" }], "stop");
    expect(r.finals.get(0)?.state).toBe("failed");
    expect(r.finals.get(2)?.state).toBe("passed");
    expect(r.finals.size).toBe(3);
  });

  it("succeed any: when every member fails the group fails and its dependents are blocked by the group", async () => {
    const r = await run([{ fails: true }, { fails: true }, { groupDeps: [0] }], [{ id: "g", members: [0, 1], sequential: false, succeed: "any" }]);
    expect(r.finals.get(2)).toEqual({ state: "blocked", reason: { kind: "blocked_by", step: "g" } });
  });

  it("cancel_rest: the first member to pass wins, the running ones are stopped with lost_race, the queued ones never start", async () => {
    const r = await run(
      [{ ms: 30 }, { ms: 10 }, { ms: 100 }, { ms: 10, deps: [2] }, { groupDeps: [0] }],
      [{ id: "race", members: [0, 1, 2, 3], sequential: false, succeed: "any", cancelRest: true }],
    );
    expect(r.finals.get(1)?.state).toBe("passed");
    expect(r.finals.get(0)).toEqual({ state: "cancelled", reason: { kind: "lost_race" } });
    expect(r.finals.get(2)).toEqual({ state: "cancelled", reason: { kind: "lost_race" } });
    expect(r.finals.get(3)).toEqual({ state: "cancelled", reason: { kind: "lost_race" } });
    expect(r.finals.get(4)?.state).toBe("passed");
    // The dependent started right after the winner, not after the losers' full durations.
    expect(r.started.find(([node]) => node === 4)?.[1]).toBe(10);
  });

  it("a group timeout fails the members still running and cancels the ones not started (group_timeout)", async () => {
    const r = await run(
      [{ ms: 10 }, { ms: 1000 }, { ms: 10, deps: [1] }, { deps: [0, 1, 2] }],
      [{ id: "g", members: [0, 1, 2], sequential: false, timeoutMs: 50 }],
    );
    expect(r.finals.get(0)?.state).toBe("passed");
    expect(r.finals.get(1)).toEqual({ state: "failed", reason: { kind: "group_timeout" } });
    expect(r.finals.get(2)).toEqual({ state: "cancelled", reason: { kind: "group_timeout" } });
    expect(r.finals.get(3)).toEqual({ state: "blocked", reason: { kind: "blocked_by", step: "s1" } });
    expect(r.clock.now()).toBeLessThan(1000);
  });

  it("a group timeout cancels members that had not started (sequential group)", async () => {
    const r = await run([{ ms: 100 }, { ms: 10 }], [{ id: "g", members: [0, 1], sequential: true, timeoutMs: 50 }]);
    expect(r.finals.get(0)).toEqual({ state: "failed", reason: { kind: "group_timeout" } });
    expect(r.finals.get(1)).toEqual({ state: "cancelled", reason: { kind: "group_timeout" } });
  });
});
