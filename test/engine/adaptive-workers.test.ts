import { describe, expect, it } from "vitest";
import { adaptiveWorkers, limitFor } from "../../src/engine/adaptive-workers.js";
import { schedule, type UnitResult } from "../../src/engine/scheduler.js";
import { VirtualClock } from "./virtual-clock.js";

/** max_workers "auto" against a virtual load average and a virtual clock: no real load in tests. */

describe("limitFor", () => {
  it("keeps the full pool up to a load equal to the cores, then gives one worker per unit of load over them, never the last", () => {
    expect(limitFor(4, 4, 0)).toBe(4);
    expect(limitFor(4, 4, 4)).toBe(4);
    expect(limitFor(4, 4, 4.2)).toBe(3);
    expect(limitFor(4, 4, 6)).toBe(2);
    expect(limitFor(4, 4, 40)).toBe(1);
    expect(limitFor(4, 4, Number.NaN)).toBe(4);
  });
});

describe("adaptiveWorkers", () => {
  function rig(loads: number[]) {
    const clock = new VirtualClock();
    const notes: Array<[string, number]> = [];
    let reads = 0;
    const limit = adaptiveWorkers({
      max: 4,
      cores: 4,
      loadAverage: () => loads[Math.min(reads++, loads.length - 1)] ?? 0,
      clock,
      sampleMs: 1000,
      onChange: (message, n) => notes.push([message, n]),
    });
    return { clock, notes, limit, reads: () => reads };
  }

  it("backs off when the load goes over the cores and recovers when it falls, with one note each way", async () => {
    const r = rig([1, 7, 7, 2]);
    expect(r.limit()).toBe(4);
    expect(r.notes).toEqual([]);
    await advance(r.clock, 1000);
    expect(r.limit()).toBe(1);
    await advance(r.clock, 1000);
    expect(r.limit()).toBe(1);
    await advance(r.clock, 1000);
    expect(r.limit()).toBe(4);
    expect(r.notes).toEqual([
      ['load average 7.00 is over the 4 cores: max_workers "auto" backs off to 1 worker (of 4)', 1],
      ['load average 2.00 for 4 cores: max_workers "auto" back up to 4 workers (of 4)', 4],
    ]);
  });

  it("reads the load once per sampling interval, however often the scheduler asks", async () => {
    const r = rig([9]);
    for (let i = 0; i < 50; i++) r.limit();
    expect(r.reads()).toBe(1);
    await advance(r.clock, 999);
    r.limit();
    expect(r.reads()).toBe(1);
    await advance(r.clock, 1);
    r.limit();
    expect(r.reads()).toBe(2);
  });
});

describe("schedule() with a worker limit read at each admission", () => {
  it("admits no more steps than the limit said when each was admitted", async () => {
    const clock = new VirtualClock();
    let running = 0;
    const seen: Array<[number, number]> = [];
    // 4 workers while t < 15, then 1: the steps started later never overlap.
    const limit = () => (clock.now() < 15 ? 4 : 1);
    await clock.drive(
      schedule({
        ids: Array.from({ length: 8 }, (_, i) => `s${i}`),
        deps: Array.from({ length: 8 }, () => []),
        selected: new Set(Array.from({ length: 8 }, (_, i) => i)),
        maxWorkers: limit,
        rateLimitMs: 0,
        onFailure: "continue",
        clock,
        run: async (_node, signal): Promise<UnitResult> => {
          running += 1;
          seen.push([clock.now(), running]);
          await clock.sleep(20, signal);
          running -= 1;
          return { final: true, state: "passed", reason: { kind: "passed" } };
        },
      }),
    );
    expect(seen.filter(([t]) => t === 0).map(([, n]) => n)).toEqual([1, 2, 3, 4]);
    expect(seen.map(([t]) => t)).toEqual([0, 0, 0, 0, 20, 40, 60, 80]);
    expect(seen.filter(([t]) => t > 0).every(([, n]) => n === 1)).toBe(true);
  });
});

async function advance(clock: VirtualClock, ms: number): Promise<void> {
  await clock.drive(clock.sleep(ms));
}
