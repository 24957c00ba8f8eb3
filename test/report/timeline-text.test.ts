import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { stripAnsi } from "../../src/format/ansi.js";
import { buildTimeline } from "../../src/report/timeline.js";
import { renderTimelineText } from "../../src/report/timeline-text.js";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const passed = { kind: "passed" } as const;
const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

/** build (a test inside) → check, which fails once and passes on its retry; gate waits for approval beside it; docs waits for a worker. */
const events: RunEvent[] = [
  { type: "run-start", at: at(0), runId: "r1", wsId: "tl", file: "/tl.json", hash: "0", steps: ["build", "check", "gate", "docs", "old"], selected: ["build", "check", "gate", "docs"], maxWorkers: 2, pid: 1, resume: false, workdir: "/tmp" },
  { type: "step-wait", at: at(0), step: "build", wait: "lane" },
  { type: "approval-wait", at: at(0), step: "gate", prompt: "ok?" },
  { type: "step-wait", at: at(0), step: "gate", wait: "gate" },
  { type: "step-wait", at: at(0), step: "docs", wait: "worker" },
  { type: "step-start", at: at(20), step: "build", attempt: 1, tool: "shell" },
  { type: "test-start", at: at(700), step: "build", attempt: 1, index: 1, command: "make test" },
  { type: "test-end", at: at(1000), step: "build", attempt: 1, index: 1, command: "make test", passed: true, reason: passed, exitCode: 0, durationMs: 300, log: "l", tail: [] },
  { type: "attempt-end", at: at(1000), step: "build", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 980, log: "l", tail: [] },
  { type: "step-end", at: at(1050), step: "build", state: "passed", reason: passed, attempts: 1, durationMs: 980 },
  { type: "step-start", at: at(1050), step: "check", attempt: 1, tool: "shell" },
  { type: "attempt-end", at: at(1100), step: "check", attempt: 1, passed: false, reason: { kind: "exit", code: 1 }, exitCode: 1, signal: null, durationMs: 50, log: "l", tail: ["boom"] },
  { type: "step-start", at: at(1110), step: "check", attempt: 2, tool: "shell" },
  { type: "attempt-end", at: at(1900), step: "check", attempt: 2, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 790, log: "l", tail: [] },
  { type: "step-end", at: at(1950), step: "check", state: "passed", reason: passed, attempts: 2, durationMs: 840 },
  { type: "approval-end", at: at(1500), step: "gate", approved: true, by: "me", via: "command" },
  { type: "step-start", at: at(1950), step: "docs", attempt: 1, tool: "shell" },
];

const deps = { build: [], check: ["build"], gate: [], docs: [], old: [] };

describe("renderTimelineText", () => {
  const running = buildTimeline({ events, deps, now: T0 + 2400 });

  it("draws one row per step on a shared axis, in plain characters without colour", () => {
    const text = renderTimelineText(running, { width: 80, chalk: plain });
    expect(text).not.toContain("\u001b");
    const lines = text.split("\n");
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^tl: running · run r1 · 2\.4s so far · steps summed/);
    expect(text).toContain("critical path 1.8s of 2.4s: build → check");
    const row = (id: string) => lines.find((l) => l.slice(2).startsWith(`${id} `)) ?? "";
    // The axis: a tick under each label, starting where the bars start.
    const axis = lines.find((l) => l.includes("┬"))!;
    const labels = lines[lines.indexOf(axis) - 1]!;
    const barsAt = axis.indexOf("┬");
    expect(labels.indexOf("0")).toBe(barsAt);
    expect(labels).toContain("500ms");
    expect(labels).toContain("2s");
    for (const label of ["500ms", "1s", "1.5s", "2s"]) expect(axis[labels.indexOf(label)], label).toBe("┬");
    // build: worktree wait, tool, its test inside the bar, a pass; on the critical path.
    expect(row("build")).toMatch(/^\* build\s+✔ \[=+#+\]/);
    // check: the failed first attempt keeps its x beside the retry, two attempts.
    expect(row("check")).toMatch(/^\* check\s+✔ +x?\[?=*x\[=+\]/);
    expect(row("check")).toMatch(/×2$/);
    // gate: waited for approval the whole time, not critical.
    expect(row("gate")).toMatch(/^ {2}gate\s+· \?+/);
    // docs: waited for a worker, then runs to now.
    expect(row("docs")).toMatch(/^ {2}docs\s+▶ ·+\[=*>/);
    // Columns line up: each row's bars start where the axis does.
    for (const id of ["build", "check", "gate", "docs"]) expect(row(id).length).toBeGreaterThan(barsAt);
    // A step this run did not select draws no row: it is counted instead.
    expect(row("old")).toBe("");
    expect(text).toContain("(1 step not selected, not drawn)");
    // The legend names what the picture uses, and nothing else.
    expect(text).toContain("# tests");
    expect(text).toContain("? approval");
    expect(text).toContain("> running");
    expect(text).toContain("x failed attempt");
    expect(text).not.toContain("lost the race");
    expect(text).not.toContain("parked");
  });

  it("colours by kind and state, and says the same once the colour is stripped", () => {
    const coloured = renderTimelineText(running, { width: 80, chalk: colour });
    expect(coloured).toContain("\u001b[");
    expect(stripAnsi(coloured)).toBe(renderTimelineText(running, { width: 80, chalk: plain }));
  });

  it("fits any width: the bars take what the ids and durations leave", () => {
    for (const width of [40, 60, 100, 160]) {
      const text = renderTimelineText(running, { width, chalk: plain });
      for (const line of text.split("\n")) expect([...line].length, `${width}: ${line}`).toBeLessThanOrEqual(width);
      const axis = text.split("\n").find((l) => l.includes("┬"))!;
      expect(axis.trimEnd().length).toBeGreaterThan(width - 12);
    }
  });

  it("cuts a long id in its middle, so two ids sharing a prefix stay apart", () => {
    const long = (id: string): RunEvent[] => [
      { type: "step-start", at: at(0), step: id, attempt: 1, tool: "shell" },
      { type: "attempt-end", at: at(100), step: id, attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 100, log: "l", tail: [] },
    ];
    const a = "step-with-a-really-long-name-number-one";
    const b = "step-with-a-really-long-name-number-two";
    const t = buildTimeline({
      events: [
        { type: "run-start", at: at(0), runId: "r", wsId: "w", file: "/w.json", hash: "0", steps: [a, b], selected: [a, b], maxWorkers: 2, pid: 1, resume: false, workdir: "/tmp" },
        ...long(a),
        ...long(b),
        { type: "run-end", at: at(120), outcome: "passed", exitCode: 0, durationMs: 120, sequentialMs: 200 },
      ],
    });
    const text = renderTimelineText(t, { width: 60, chalk: plain });
    expect(text).toContain("  step-with-…umber-one ▶ [");
    expect(text).toContain("  step-with-…umber-two ▶ [");
  });

  it("keeps a short acceptance test that ends its attempt visible inside the bar, not under its ]", () => {
    // 1 s of tool, then a 5 ms test at the attempt's very end: on 60 columns it rounds into the last column.
    const t = buildTimeline({
      events: [
        { type: "run-start", at: at(0), runId: "r", wsId: "w", file: "/w.json", hash: "0", steps: ["s"], selected: ["s"], maxWorkers: 1, pid: 1, resume: false, workdir: "/tmp" },
        { type: "step-start", at: at(0), step: "s", attempt: 1, tool: "shell" },
        { type: "test-start", at: at(995), step: "s", attempt: 1, index: 1, command: "true" },
        { type: "test-end", at: at(1000), step: "s", attempt: 1, index: 1, command: "true", passed: true, reason: passed, exitCode: 0, durationMs: 5, log: "l", tail: [] },
        { type: "attempt-end", at: at(1000), step: "s", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 1000, log: "l", tail: [] },
        { type: "step-end", at: at(1000), step: "s", state: "passed", reason: passed, attempts: 1, durationMs: 1000 },
        { type: "run-end", at: at(1000), outcome: "passed", exitCode: 0, durationMs: 1000, sequentialMs: 1000 },
      ],
    });
    const text = renderTimelineText(t, { width: 60, chalk: plain });
    expect(text.split("\n").find((l) => l.slice(2).startsWith("s "))).toMatch(/✔ \[=+#\]/);
    expect(text).toContain("# tests");
  });

  it("names an interrupted run so, and draws a run with nothing run in it", () => {
    const ended = buildTimeline({ events: events.slice(0, 5) });
    expect(renderTimelineText(ended, { width: 80, chalk: plain, status: "interrupted" }).split("\n")[0]).toMatch(/^tl: interrupted · run r1 · 0ms ·/);
    const start = { ...events[0]!, selected: [] } as RunEvent;
    const nothing = buildTimeline({ events: [start, { type: "run-end", at: at(5), outcome: "passed", exitCode: 0, durationMs: 5, sequentialMs: 0 }] });
    expect(renderTimelineText(nothing, { width: 80, chalk: plain }).split("\n").slice(1)).toEqual(["no step ran in this run"]);
  });
});
