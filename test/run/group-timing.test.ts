import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, ws } from "./rig.js";
import { find, parseXml } from "../report/xml-check.js";
import { spanTimings } from "../../src/report/group-timing.js";
import { foldEvents } from "../../src/store/run-state.js";
import type { RunEvent } from "../../src/events/run-event.js";

afterEach(cleanup);

// A build phase run one by one, then tests side by side, then a release: the seeds' phases.
const PHASES = {
  id: "phases",
  execution: { max_workers: 3, isolation: "none" },
  defaults: { tool: "shell" },
  step_groups: [
    { id: "build", steps: ["b1", "b2"], execute: "sequential" },
    { id: "tests", steps: ["t1", "t2"] },
  ],
  steps: [
    { id: "b1", run: "sleep 0.1" },
    { id: "b2", run: "sleep 0.1" },
    { id: "t1", run: "sleep 0.1", depends_on: ["build"] },
    { id: "t2", run: "sleep 0.1", depends_on: ["build"] },
    { id: "release", run: "true", depends_on: ["tests"] },
  ],
};

interface Span {
  id: string;
  steps: string[];
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
}

describe("group and wave timing", () => {
  it("ws status (table and --json under groups and waves), the Markdown summary and JUnit (a testsuite per group) give each group's start, end and duration", () => {
    const p = makeProject([PHASES]);
    expect(ws(p, ["run", "phases", "--junit", "junit.xml", "--summary", "summary.md"]).code).toBe(0);
    const json = JSON.parse(ws(p, ["status", "phases", "--json"]).stdout) as { groups: Span[]; waves: Span[]; steps: Record<string, { startedAt: string; endedAt: string }> };
    const steps = json.steps;
    const [build, tests] = json.groups;
    expect(build).toMatchObject({ id: "build", steps: ["b1", "b2"], startedAt: steps.b1!.startedAt, endedAt: steps.b2!.endedAt });
    expect(build!.durationMs).toBe(Date.parse(steps.b2!.endedAt) - Date.parse(steps.b1!.startedAt));
    expect(tests).toMatchObject({ id: "tests", steps: ["t1", "t2"] });
    expect(Date.parse(tests!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(build!.endedAt!));
    // The sequential group's order makes a wave of each member.
    expect(json.waves.map((w) => w.steps)).toEqual([["b1"], ["b2"], ["t1", "t2"], ["release"]]);
    expect(json.waves.every((w) => w.durationMs !== undefined && w.durationMs >= 0)).toBe(true);

    const table = ws(p, ["status", "phases"]).stdout;
    expect(table).toMatch(/^groups:\n {2}build: \S+ \(\d\d:\d\d:\d\d\.\d{3} → \d\d:\d\d:\d\d\.\d{3}\), 2 steps\n {2}tests: \S+ \(.*\), 2 steps\nwaves:\n {2}wave 1: \S+ \(.*\), 1 step\n/m);

    const summary = fs.readFileSync(path.join(p.dir, "summary.md"), "utf8");
    expect(summary).toContain("## Groups and waves");
    expect(summary).toMatch(/\| group \| build \| 2 \| \S+ \| \S+ \| \S+ \|/);
    expect(summary).toMatch(/\| wave \| 3 \| 2 \| /);

    const root = parseXml(fs.readFileSync(path.join(p.dir, "junit.xml"), "utf8"));
    const suites = find(root, "testsuite");
    expect(suites.map((s) => s.attrs.name)).toEqual(["phases", "phases/build", "phases/tests"]);
    expect(suites.map((s) => s.attrs.tests)).toEqual(["1", "2", "2"]);
    expect(Number(suites[1]!.attrs.time)).toBeCloseTo(build!.durationMs! / 1000, 3);
    expect(suites[1]!.attrs.timestamp).toBe(build!.startedAt!.slice(0, 19));
    expect(root.attrs.tests).toBe("5");
  });

  it("a group is running from its first member's start until every member ended; not started before", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, s)).toISOString();
    const start: RunEvent = { type: "run-start", at: at(0), runId: "r", wsId: "w", file: "f", hash: "h", steps: ["a", "b", "c"], selected: ["a", "b", "c"], maxWorkers: 2, pid: 1, resume: false, workdir: "/w" };
    const events: RunEvent[] = [
      start,
      { type: "step-start", at: at(1), step: "a", attempt: 1, tool: "shell" },
      { type: "step-end", at: at(3), step: "a", state: "passed", reason: { kind: "passed" }, attempts: 1, durationMs: 2000 },
      { type: "step-start", at: at(2), step: "b", attempt: 1, tool: "shell" },
    ];
    const group = [{ id: "g", steps: ["a", "b"] }, { id: "later", steps: ["c"] }];
    const [g, later] = spanTimings(foldEvents(events)!, group);
    expect(g).toMatchObject({ startedAt: at(1), endedAt: undefined, durationMs: undefined });
    expect(later).toMatchObject({ startedAt: undefined });
    events.push({ type: "step-end", at: at(5), step: "b", state: "passed", reason: { kind: "passed" }, attempts: 1, durationMs: 3000 });
    expect(spanTimings(foldEvents(events)!, group)[0]).toMatchObject({ startedAt: at(1), endedAt: at(5), durationMs: 4000 });
  });
});
