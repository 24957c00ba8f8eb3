import { describe, expect, it } from "vitest";
import { RunConsole, STREAM_LINES_PER_SECOND } from "../../src/cli/run-console.js";
import type { RunEvent } from "../../src/events/run-event.js";

/** The seeds' console lines (issue 34.7), on events given by hand and a clock the test moves. */
function make(testCounts: Record<string, number> = {}) {
  const lines: string[] = [];
  const clock = { now: 0 };
  const extras = new RunConsole((line) => lines.push(line), { stamped: false, testCounts: new Map(Object.entries(testCounts)), now: () => clock.now });
  return { extras, lines, clock };
}
const at = "2026-12-06T10:00:00.000Z";
const start = (step: string, attempt = 1): RunEvent => ({ type: "step-start", at, step, attempt, tool: "shell" });

describe("RunConsole", () => {
  it("says when several steps start together, before their start lines; one start alone gets no such line", () => {
    const { extras, lines } = make();
    for (const s of ["a", "b", "c"]) expect(extras.before(start(s), `start ${s}`)).toBe(true);
    expect(lines).toEqual([]);
    expect(extras.before({ type: "warning", at, message: "x" }, "warning x")).toBe(false);
    expect(lines).toEqual(["starting 3 in parallel: a, b, c", "start a", "start b", "start c"]);
    extras.before(start("d"), "start d");
    extras.release();
    expect(lines.slice(4)).toEqual(["start d"]);
  });

  it("--stream: [step] lines, at most the per-second bound, the rest counted and said at the attempt's end", () => {
    const { extras, lines } = make();
    extras.before({ type: "run-start", at, runId: "r", wsId: "w", file: "f", hash: "0", steps: ["a"], selected: ["a"], maxWorkers: 1, pid: 1, resume: false, workdir: "/" }, undefined);
    for (let i = 1; i <= STREAM_LINES_PER_SECOND + 5; i++) extras.output("a", `line ${i}\u001b[31m`);
    expect(lines).toHaveLength(STREAM_LINES_PER_SECOND);
    expect(lines[0]).toBe("[a] line 1");
    extras.before({ type: "attempt-end", at, step: "a", attempt: 1, passed: true, reason: { kind: "passed" }, exitCode: 0, signal: null, durationMs: 1, log: "l", tail: [] }, undefined);
    expect(lines.at(-1)).toBe("[a] … 5 more lines (all in ws logs w --step a)");
  });

  it("a new second lets lines through again, after saying what the last one left out", () => {
    const { extras, lines, clock } = make();
    for (let i = 0; i < STREAM_LINES_PER_SECOND + 1; i++) extras.output("a", "x");
    clock.now = 1000;
    extras.output("a", "later");
    expect(lines.slice(-2)).toEqual(["[a] … 1 more line (all in ws logs  --step a)", "[a] later"]);
  });

  it("ends a step with tests with its tally of the last attempt; none without tests or when they never ran", () => {
    const { extras } = make({ a: 2, b: 0, c: 3 });
    const testEnd = (step: string, attempt: number, index: number, passed: boolean): RunEvent => ({ type: "test-end", at, step, attempt, index, command: "t", passed, reason: { kind: passed ? "passed" : "tests_failed" }, exitCode: passed ? 0 : 1, durationMs: 1, log: "l", tail: [] });
    const end = (step: string, state: "passed" | "failed"): RunEvent => ({ type: "step-end", at, step, state, reason: { kind: state === "passed" ? "passed" : "tests_failed" }, attempts: 2, durationMs: 1 });
    extras.before(start("a"), undefined);
    extras.before(testEnd("a", 1, 1, false), undefined);
    extras.before(start("a", 2), undefined);
    extras.before(testEnd("a", 2, 1, true), undefined);
    extras.before(testEnd("a", 2, 2, true), undefined);
    expect(extras.suffix(end("a", "passed"))).toBe(" · tests 2/2 passed");
    extras.before(start("c"), undefined);
    extras.before(testEnd("c", 1, 1, true), undefined);
    extras.before(testEnd("c", 1, 2, false), undefined);
    expect(extras.suffix(end("c", "failed"))).toBe(" · tests 1/3 passed");
    extras.before(start("b"), undefined);
    expect(extras.suffix(end("b", "passed"))).toBe("");
  });
});

describe("RunConsole in a terminal", () => {
  it("says a retry's delay (plain output has formatEventLine's line for it)", () => {
    const { extras, lines } = make();
    extras.before({ type: "step-wait", at, step: "a", wait: "retry", until: "2026-12-06T10:00:02.000Z" }, undefined);
    expect(lines).toEqual(["  ↻ a retries in 2s (retry_delay)"]);
    const plain: string[] = [];
    const stamped = new RunConsole((line) => plain.push(line), { stamped: true, testCounts: new Map() });
    stamped.before({ type: "step-wait", at, step: "a", wait: "retry", until: "2026-12-06T10:00:02.000Z" }, undefined);
    expect(plain).toEqual([]);
  });
});
