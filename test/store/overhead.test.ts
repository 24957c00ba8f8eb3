import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readHistory, recordDurations, runOverhead } from "../../src/store/history.js";
import { OverheadMeter } from "../../src/store/overhead.js";
import type { RunEvent } from "../../src/events/run-event.js";
import { tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const t0 = Date.parse("2026-12-06T12:00:00.000Z");
const at = (ms: number) => new Date(t0 + ms).toISOString();
const passed = (step: string, ms: number, durationMs: number, attempts = 1): RunEvent => ({ type: "step-end", at: at(ms), step, state: "passed", reason: { kind: "passed" }, attempts, durationMs });

describe("ws's own time in a run", () => {
  it("per step: from the end (or start) that let it go to its lane, to its start; per run: the set-up before run-start and the time after the last step", () => {
    const meter = new OverheadMeter();
    const events: RunEvent[] = [
      { type: "run-start", at: at(0), runId: "r", wsId: "w", file: "f", hash: "h", steps: ["a", "b", "c", "d"], selected: ["a", "b", "c", "d"], maxWorkers: 2, pid: 1, resume: false, workdir: "/w", setupMs: 250 },
      { type: "step-wait", at: at(10), step: "a", wait: "lane" },
      { type: "step-start", at: at(50), step: "a", attempt: 1, tool: "shell" },
      passed("a", 150, 100),
      { type: "step-wait", at: at(160), step: "b", wait: "lane" },
      { type: "step-start", at: at(200), step: "b", attempt: 1, tool: "shell" },
      passed("b", 300, 100),
      // Held by the rate limit: its wait is the plan's to model, not ws's overhead.
      { type: "step-wait", at: at(300), step: "c", wait: "rate_limit" },
      { type: "step-wait", at: at(800), step: "c", wait: "lane" },
      { type: "step-start", at: at(840), step: "c", attempt: 1, tool: "shell" },
      passed("c", 940, 100),
      // A retried step's hand-offs are inside its duration.
      { type: "step-wait", at: at(950), step: "d", wait: "lane" },
      { type: "step-start", at: at(990), step: "d", attempt: 1, tool: "shell" },
      passed("d", 1500, 300, 2),
    ];
    for (const e of events) meter.observe(e);
    // a: 10 + 40; b: 10 + 40.
    expect(meter.measure(at(1530))).toEqual({ stepMs: 50, runMs: 250 + 30 });
    expect(new OverheadMeter().measure(at(0))).toBeUndefined();
  });

  it("history keeps the last ten runs' overheads and the estimate takes their median", () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, "history.json");
    for (const stepMs of [40, 60, 500]) recordDurations(file, { a: 10 }, undefined, { stepMs, runMs: stepMs * 2 });
    expect(readHistory(file).overhead).toEqual({ stepMs: [40, 60, 500], runMs: [80, 120, 1000] });
    expect(runOverhead(readHistory(file))).toEqual({ stepMs: 60, runMs: 120 });
    for (let i = 0; i < 12; i++) recordDurations(file, {}, undefined, { stepMs: i, runMs: i });
    expect(readHistory(file).overhead?.stepMs).toHaveLength(10);
    // A history from before the overhead was measured estimates without it.
    fs.writeFileSync(file, '{"steps":{"a":[1]},"overhead":{"stepMs":["x"],"runMs":[3]}}');
    expect(runOverhead(readHistory(file))).toBeUndefined();
  });
});
