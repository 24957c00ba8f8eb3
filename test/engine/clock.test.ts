import { afterEach, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, systemClock } from "../../src/engine/clock.js";

afterEach(() => {
  vi.restoreAllMocks();
});

it("a wait past Node's timer limit is chunked: no early wake-up, no TimeoutOverflowWarning", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  const delays: number[] = [];
  const real = globalThis.setTimeout;
  vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(fn, ms);
  }) as typeof setTimeout);
  try {
    const controller = new AbortController();
    let woke = false;
    const sleeping = systemClock.sleep(1e9 * 1000, controller.signal).then(() => (woke = true));
    await new Promise((r) => real(r, 100));
    expect(woke).toBe(false);
    controller.abort();
    await sleeping;
    expect(delays.length).toBeGreaterThan(0);
    for (const ms of delays) expect(ms).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(warnings.filter((w) => w.name === "TimeoutOverflowWarning")).toEqual([]);
  } finally {
    process.off("warning", onWarning);
  }
});

it("a short wait still ends on time", async () => {
  await systemClock.sleep(5);
});
