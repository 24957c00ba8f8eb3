import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { buildTimeline, lastRunEvents } from "../../src/report/timeline.js";
import { renderTrace, type Trace } from "../../src/report/trace.js";
import { cleanup, gitProject, recStep, wsc } from "../run/rig.js";

afterAll(cleanup);

/**
 * What the Trace Event Format (Google's "Trace Event Format" document, the one chrome://tracing,
 * Perfetto and Bazel's --profile share) requires, checked field by field: the JSON object form
 * with `traceEvents`; every event's name, ph, ts, pid, tid; `dur` for a complete event ("X"),
 * `cat` and `id` for async ones ("b"/"e", paired); `args.name` for process_name/thread_name
 * metadata ("M"); ts and dur in microseconds; and on each thread, complete events properly
 * nested (a slice that starts inside another ends inside it), which is how a viewer stacks them.
 * Returns the problems found (none for a valid trace).
 */
function traceProblems(json: string): string[] {
  const problems: string[] = [];
  const doc = JSON.parse(json) as Record<string, unknown>;
  if (!Array.isArray(doc.traceEvents)) return ["traceEvents is not an array"];
  if (doc.displayTimeUnit !== undefined && doc.displayTimeUnit !== "ms" && doc.displayTimeUnit !== "ns") problems.push(`displayTimeUnit ${String(doc.displayTimeUnit)}`);
  const open = new Map<string, number>();
  const byTid = new Map<string, Array<{ ts: number; end: number; name: string }>>();
  (doc.traceEvents as Array<Record<string, unknown>>).forEach((e, i) => {
    const where = `event ${i} (${JSON.stringify(e).slice(0, 80)})`;
    if (typeof e.name !== "string") problems.push(`${where}: name`);
    if (typeof e.ph !== "string" || !["X", "b", "e", "M"].includes(e.ph)) problems.push(`${where}: ph`);
    if (typeof e.ts !== "number" || e.ts < 0 || !Number.isFinite(e.ts)) problems.push(`${where}: ts`);
    if (!Number.isInteger(e.pid)) problems.push(`${where}: pid`);
    if (!Number.isInteger(e.tid)) problems.push(`${where}: tid`);
    if (e.args !== undefined && (typeof e.args !== "object" || e.args === null || Array.isArray(e.args))) problems.push(`${where}: args is not an object`);
    if (e.ph === "X") {
      if (typeof e.dur !== "number" || e.dur < 0 || !Number.isInteger(e.dur)) problems.push(`${where}: dur`);
      const key = `${String(e.pid)}/${String(e.tid)}`;
      const list = byTid.get(key) ?? [];
      list.push({ ts: e.ts as number, end: (e.ts as number) + (e.dur as number), name: e.name as string });
      byTid.set(key, list);
    }
    if (e.ph === "b" || e.ph === "e") {
      if (typeof e.cat !== "string" || typeof e.id !== "string") problems.push(`${where}: async events need cat and id`);
      const key = `${String(e.cat)}/${String(e.id)}`;
      if (e.ph === "b") open.set(key, e.ts as number);
      else if (!open.has(key)) problems.push(`${where}: end without a begin`);
      else {
        if ((e.ts as number) < open.get(key)!) problems.push(`${where}: ends before it begins`);
        open.delete(key);
      }
    }
    if (e.ph === "M") {
      const args = e.args as Record<string, unknown> | undefined;
      if ((e.name === "process_name" || e.name === "thread_name") && typeof args?.name !== "string") problems.push(`${where}: ${String(e.name)} without args.name`);
      if (e.name === "thread_sort_index" && typeof args?.sort_index !== "number") problems.push(`${where}: thread_sort_index without args.sort_index`);
    }
  });
  for (const key of open.keys()) problems.push(`async ${key} never ends`);
  for (const [tid, slices] of byTid) {
    slices.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const stack: typeof slices = [];
    for (const s of slices) {
      while (stack.length > 0 && stack.at(-1)!.end <= s.ts) stack.pop();
      const parent = stack.at(-1);
      if (parent && s.end > parent.end) problems.push(`tid ${tid}: ${s.name} [${s.ts}, ${s.end}] overlaps ${parent.name} [${parent.ts}, ${parent.end}] without nesting`);
      stack.push(s);
    }
  }
  return problems;
}

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const passed = { kind: "passed" } as const;

describe("renderTrace", () => {
  it("puts attempts on their worker lanes with their tests nested, waits as async events, and names every thread", () => {
    const events: RunEvent[] = [
      { type: "run-start", at: at(0), runId: "r1", wsId: "tr", file: "/tr.json", hash: "0", steps: ["a", "b", "c"], selected: ["a", "b", "c"], maxWorkers: 2, pid: 1, resume: false, workdir: "/tmp" },
      { type: "step-wait", at: at(0), step: "a", wait: "lane" },
      { type: "step-wait", at: at(0), step: "b", wait: "lane" },
      { type: "step-wait", at: at(0), step: "c", wait: "worker" },
      { type: "step-start", at: at(10), step: "a", attempt: 1, tool: "shell" },
      { type: "step-start", at: at(12), step: "b", attempt: 1, tool: "shell" },
      { type: "test-start", at: at(60), step: "a", attempt: 1, index: 1, command: "make check" },
      { type: "test-end", at: at(90), step: "a", attempt: 1, index: 1, command: "make check", passed: true, reason: passed, exitCode: 0, durationMs: 30, log: "l", tail: [] },
      { type: "attempt-end", at: at(90), step: "a", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 80, log: "l", tail: [] },
      { type: "step-end", at: at(100), step: "a", state: "passed", reason: passed, attempts: 1, durationMs: 80 },
      { type: "attempt-end", at: at(50), step: "b", attempt: 1, passed: false, reason: { kind: "exit", code: 2 }, exitCode: 2, signal: null, durationMs: 38, log: "l", tail: [] },
      { type: "step-wait", at: at(50), step: "b", wait: "lane" },
      { type: "step-start", at: at(55), step: "b", attempt: 2, tool: "shell" },
      { type: "attempt-end", at: at(150), step: "b", attempt: 2, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 95, log: "l", tail: [] },
      { type: "step-end", at: at(160), step: "b", state: "passed", reason: passed, attempts: 2, durationMs: 133 },
      { type: "step-wait", at: at(100), step: "c", wait: "lane" },
      { type: "step-start", at: at(105), step: "c", attempt: 1, tool: "shell" },
      { type: "attempt-end", at: at(200), step: "c", attempt: 1, passed: true, reason: passed, exitCode: 0, signal: null, durationMs: 95, log: "l", tail: [] },
      { type: "step-end", at: at(210), step: "c", state: "passed", reason: passed, attempts: 1, durationMs: 95 },
      { type: "run-end", at: at(215), outcome: "passed", exitCode: 0, durationMs: 215, sequentialMs: 308 },
    ];
    const trace = renderTrace(buildTimeline({ events, deps: { a: [], b: [], c: ["a"] } }));
    expect(traceProblems(JSON.stringify(trace))).toEqual([]);
    expect(trace.displayTimeUnit).toBe("ms");
    const x = trace.traceEvents.filter((e) => e.ph === "X");
    const attempts = x.filter((e) => e.cat === "attempt");
    // Lanes go first free first, in the order of the spans' starts (a worktree wait included): b's
    // short failed attempt frees lane 1 for its retry; a's lane is free again when c starts.
    expect(attempts.map((e) => [e.name, e.ts, e.dur, e.tid])).toEqual([
      ["b #1", 12_000, 38_000, 1],
      ["b #2", 55_000, 95_000, 1],
      ["a #1", 10_000, 80_000, 2],
      ["c #1", 105_000, 95_000, 2],
    ]);
    const test = x.find((e) => e.cat === "test")!;
    expect([test.name, test.ts, test.dur, test.tid]).toEqual(["test 1: make check", 60_000, 30_000, 2]);
    expect(x.filter((e) => e.cat === "commit").map((e) => e.name)).toEqual(["b: commit", "a: commit", "c: commit"]);
    // c waited for a worker before it had a lane: an async pair, 0 → 100 ms.
    const waits = trace.traceEvents.filter((e) => e.ph === "b" || e.ph === "e");
    expect(waits.filter((e) => e.name === "c: waiting for a worker").map((e) => [e.ph, e.ts])).toEqual([["b", 0], ["e", 100_000]]);
    const threads = trace.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => [e.tid, (e.args as { name: string }).name]);
    expect(threads).toEqual([[0, "run"], [1, "worker 1"], [2, "worker 2"]]);
    expect(trace.traceEvents.find((e) => e.ph === "M" && e.name === "process_name")?.args).toEqual({ name: "ws run tr" });
    expect(trace.otherData).toMatchObject({ wsId: "tr", runId: "r1", startedAt: at(0), status: "passed" });
  });

  it("finds a badly nested trace invalid (the check can fail)", () => {
    const bad: Trace = {
      displayTimeUnit: "ms",
      traceEvents: [
        { name: "p", cat: "attempt", ph: "X", ts: 0, dur: 100, pid: 1, tid: 1 },
        { name: "c", cat: "test", ph: "X", ts: 50, dur: 100, pid: 1, tid: 1 },
        { name: "w", cat: "wait", ph: "b", id: "1", ts: 0, pid: 1, tid: 0 },
      ],
    };
    expect(traceProblems(JSON.stringify(bad))).toEqual([
      "async wait/1 never ends",
      "tid 1/1: c [50, 150] overlaps p [0, 100] without nesting",
    ]);
  });

  it("of a real run (worktrees, a retry, tests, parallel steps) is a valid trace with one slice per attempt", async () => {
    const p = gitProject([
      {
        id: "real",
        execution: { max_workers: 2 },
        steps: [
          recStep("one", [], { acceptance_tests: ["true", "echo two"] }),
          recStep("two", ["--fail-first", 1], { retries: 1 }),
          recStep("three", [], { depends_on: ["one", "two"] }),
        ],
      },
    ]);
    const r = await wsc(p, ["run", "real"]);
    expect(r.code, r.stderr).toBe(0);
    const events = lastRunEvents(
      fs.readFileSync(path.join(p.state("real"), "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as RunEvent),
    );
    const trace = renderTrace(buildTimeline({ events, deps: { one: [], two: [], three: ["one", "two"] } }));
    const json = JSON.stringify(trace);
    expect(traceProblems(json)).toEqual([]);
    const x = trace.traceEvents.filter((e) => e.ph === "X");
    expect(x.filter((e) => e.cat === "attempt").map((e) => e.name).sort()).toEqual(["one #1", "three #1", "two #1", "two #2"]);
    // Each test lies inside its own attempt, on its lane.
    const one = x.find((e) => e.name === "one #1")!;
    const tests = x.filter((e) => e.cat === "test");
    expect(tests).toHaveLength(2);
    for (const t of tests) {
      expect(t.tid).toBe(one.tid);
      expect(t.ts).toBeGreaterThanOrEqual(one.ts);
      expect(t.ts + t.dur).toBeLessThanOrEqual(one.ts + one.dur);
    }
    const lanes = new Set(x.filter((e) => e.cat === "attempt").map((e) => e.tid));
    const named = new Set(trace.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.tid));
    for (const tid of lanes) expect(named.has(tid)).toBe(true);
    expect(lanes.size).toBeLessThanOrEqual(2);
  });
});
