import { describe, expect, it } from "vitest";
import { axisTicks, buildTimeline, lastRunEvents } from "../../src/report/timeline.js";
import type { RunEvent } from "../../src/events/run-event.js";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const start = (steps: string[], extra: Partial<Extract<RunEvent, { type: "run-start" }>> = {}): RunEvent => ({
  type: "run-start", at: at(0), runId: "r1", wsId: "w", file: "/w.json", hash: "0", steps, selected: steps, maxWorkers: 2, pid: 1, resume: false, workdir: "/tmp", ...extra,
});
const passed = { kind: "passed" } as const;

describe("buildTimeline", () => {
  it("draws waits, attempts, tests and the commit of each step in order, and finds the critical path", () => {
    const events: RunEvent[] = [
      start(["a", "b", "c"]),
      { type: "step-wait", at: at(0), step: "a", wait: "lane" },
      { type: "step-start", at: at(10), step: "a", attempt: 1, tool: "shell" },
      { type: "test-start", at: at(100), step: "a", attempt: 1, index: 1, command: "true" },
      { type: "test-end", at: at(110), step: "a", attempt: 1, index: 1, command: "true", passed: true, reason: passed, exitCode: 0, durationMs: 10, log: "l", tail: [] },
      { type: "attempt-end", at: at(110), step: "a", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 100, log: "l", tail: [] },
      { type: "step-end", at: at(130), step: "a", state: "passed", reason: passed, attempts: 1, durationMs: 100 },
      { type: "step-wait", at: at(130), step: "b", wait: "lane" },
      { type: "step-wait", at: at(130), step: "c", wait: "worker" },
      { type: "step-start", at: at(140), step: "b", attempt: 1, tool: "shell" },
      { type: "attempt-end", at: at(200), step: "b", attempt: 1, passed: false, reason: { kind: "exit", code: 1 }, exitCode: 1, signal: null, durationMs: 60, log: "l", tail: ["boom"] },
      { type: "step-start", at: at(210), step: "b", attempt: 2, tool: "shell" },
      { type: "attempt-end", at: at(400), step: "b", attempt: 2, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 190, log: "l", tail: [] },
      { type: "step-end", at: at(420), step: "b", state: "passed", reason: passed, attempts: 2, durationMs: 250 },
      { type: "step-wait", at: at(420), step: "c", wait: "lane" },
      { type: "step-start", at: at(430), step: "c", attempt: 1, tool: "shell" },
      { type: "attempt-end", at: at(450), step: "c", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 20, log: "l", tail: [] },
      { type: "step-end", at: at(460), step: "c", state: "passed", reason: passed, attempts: 1, durationMs: 20 },
      { type: "run-end", at: at(470), outcome: "passed", exitCode: 0, durationMs: 470, sequentialMs: 370 },
    ];
    const t = buildTimeline({ events, deps: { a: [], b: ["a"], c: ["a"] } });
    const [a, b, c] = t.rows;
    expect(a!.segments.map((s) => s.kind)).toEqual(["wait-lane", "attempt", "test", "commit"]);
    expect(b!.attempts.map((x) => [x.attempt, x.start, x.end, x.passed, x.reason])).toEqual([[1, 140, 200, false, "exit:1"], [2, 210, 400, true, "passed"]]);
    expect(c!.segments.map((s) => [s.kind, s.start, s.end])).toEqual([["wait-worker", 130, 420], ["wait-lane", 420, 430], ["attempt", 430, 450], ["commit", 450, 460]]);
    expect(t.criticalPath).toEqual({ steps: ["a", "b"], ms: 350 });
    expect(t.rows.map((r) => r.critical)).toEqual([true, true, false]);
    expect(t.makespanMs).toBe(470);
    expect(t.stepTimeMs).toBe(370);
    expect(t.lanes).toBe(1);
    expect(t.status).toBe("passed");
  });

  it("names a gate wait by what holds it, and cuts a race loser off", () => {
    const events: RunEvent[] = [
      start(["gate", "x", "y"]),
      { type: "approval-wait", at: at(5), step: "gate", prompt: "ok?" },
      { type: "step-wait", at: at(5), step: "gate", wait: "gate" },
      { type: "step-wait", at: at(5), step: "x", wait: "lane" },
      { type: "step-wait", at: at(5), step: "y", wait: "lane" },
      { type: "step-start", at: at(10), step: "x", attempt: 1, tool: "shell" },
      { type: "step-start", at: at(10), step: "y", attempt: 1, tool: "shell" },
      { type: "attempt-end", at: at(50), step: "x", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 40, log: "l", tail: [] },
      { type: "attempt-end", at: at(55), step: "y", attempt: 1, passed: false, reason: { kind: "lost_race" }, exitCode: null, signal: "SIGTERM", durationMs: 45, log: "l", tail: [] },
      { type: "approval-end", at: at(300), step: "gate", approved: true, by: "me", via: "command" },
    ];
    const t = buildTimeline({ events, now: T0 + 400 });
    expect(t.status).toBe("running");
    expect(t.rows[0]!.segments[0]).toMatchObject({ kind: "wait-approval", start: 5, end: 300 });
    expect(t.rows[2]!.attempts[0]!.cut).toBe(true);
    expect(t.lanes).toBe(2);
    expect(t.makespanMs).toBe(400);
  });

  it("cuts a race loser off whose attempt ended cancelled and whose step ended lost_race (what the engine emits)", () => {
    const events: RunEvent[] = [
      start(["y"]),
      { type: "step-start", at: at(10), step: "y", attempt: 1, tool: "shell" },
      { type: "attempt-end", at: at(55), step: "y", attempt: 1, passed: false, reason: { kind: "cancelled" }, exitCode: null, signal: "SIGTERM", durationMs: 45, log: "l", tail: [] },
      { type: "step-end", at: at(60), step: "y", state: "cancelled", reason: { kind: "lost_race" }, attempts: 1, durationMs: 45 },
    ];
    const bar = buildTimeline({ events, now: T0 + 100 }).rows[0]!.attempts[0]!;
    expect(bar).toMatchObject({ cut: true, reason: "lost_race" });
  });

  it("takes the last run of a log that holds several", () => {
    const events = [start(["a"]), start(["a"], { runId: "r2" })];
    expect(lastRunEvents(events)).toHaveLength(1);
    expect((lastRunEvents(events)[0] as { runId: string }).runId).toBe("r2");
  });

  it("puts round ticks on the axis", () => {
    expect(axisTicks(2500)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(axisTicks(0)).toEqual([0]);
  });
});
