import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseProgress, ProgressWatch, progressFileOf, readProgress } from "../../src/engine/step-progress.js";
import type { RunEvent } from "../../src/events/run-event.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-progress-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("parseProgress", () => {
  it("reads percent and n/m; the last well-formed line counts; out of range is clamped", () => {
    expect(parseProgress("42\n")).toBe(0.42);
    expect(parseProgress("10\n42%\n")).toBe(0.42);
    expect(parseProgress("3/10")).toBe(0.3);
    expect(parseProgress(" 3 / 4 \r\n\n")).toBe(0.75);
    expect(parseProgress("50\nworking on it\n")).toBe(0.5);
    expect(parseProgress("150")).toBe(1);
    expect(parseProgress("1/0\n")).toBeUndefined();
    expect(parseProgress("")).toBeUndefined();
    expect(parseProgress("-5\nnope")).toBeUndefined();
  });

  it("reads only the end of a long file, without taking a cut line for a number", () => {
    const file = path.join(dir, "p");
    fs.writeFileSync(file, Array.from({ length: 5000 }, (_, i) => `${i}/5000`).join("\n") + "\n");
    expect(readProgress(file)).toBe(4999 / 5000);
    expect(readProgress(path.join(dir, "missing"))).toBeUndefined();
  });
});

describe("ProgressWatch", () => {
  it("emits a progress event for a running attempt only when its value changes, and none after the attempt ended", () => {
    const events: RunEvent[] = [];
    const stepDir = (step: string) => path.join(dir, step);
    const watch = new ProgressWatch(stepDir, (e) => events.push(e), () => "2026-12-04T00:00:00.000Z");
    fs.mkdirSync(stepDir("a"));
    const file = progressFileOf(stepDir("a"), 2);
    watch.poll();
    watch.observe({ type: "step-start", at: "", step: "a", attempt: 2, tool: "shell" });
    watch.poll();
    expect(events).toEqual([]);
    fs.appendFileSync(file, "1/4\n");
    watch.poll();
    watch.poll();
    fs.appendFileSync(file, "25%\n");
    watch.poll();
    fs.appendFileSync(file, "3/4\n");
    watch.poll();
    expect(events).toEqual([
      { type: "progress", at: "2026-12-04T00:00:00.000Z", step: "a", attempt: 2, fraction: 0.25 },
      { type: "progress", at: "2026-12-04T00:00:00.000Z", step: "a", attempt: 2, fraction: 0.75 },
    ]);
    watch.observe({ type: "attempt-end", at: "", step: "a", attempt: 2, passed: true, reason: { kind: "passed" }, exitCode: 0, signal: null, durationMs: 1, log: "", tail: [] });
    fs.appendFileSync(file, "4/4\n");
    watch.poll();
    expect(events).toHaveLength(2);
  });
});
