import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, maxOverlap, readEvents, readRecord, readState, recStep, ws, type EventLine, type Project, type RecordLine } from "./rig.js";

// Order and concurrency are read from the order in which lines were appended (record.mjs's file
// and events.jsonl), never from how long anything took. A step writes its "end" line before it
// exits, so the overlap counted from the record can only under-count what really ran at once:
// an upper bound checked on it holds for the real run.

afterEach(cleanup);

const isStart = (l: RecordLine) => l.event === "start";
const isEnd = (l: RecordLine) => l.event === "end";
const index = (lines: RecordLine[], id: string, event: "start" | "end") => lines.findIndex((l) => l.id === id && l.event === event);

// The engine's view, from events.jsonl: an attempt runs from its step-start to its attempt-end.
// Units started in one scheduling round log their step-starts before any attempt-end, so this
// sees an over-full pool even when the processes themselves happen not to overlap.
const engineOverlap = (p: Project, wsId: string, only?: (step: string) => boolean) =>
  maxOverlap(
    readEvents(p, wsId).filter((e) => !only || only(String(e.step))),
    (e) => e.type === "step-start",
    (e) => e.type === "attempt-end",
  );
const eventIndex = (events: EventLine[], type: string, step: string) => events.findIndex((e) => e.type === type && e.step === step);

describe("ws run: ordering and concurrency", () => {
  it("never starts a step before its dependencies ended, and never runs more than max_workers at once", () => {
    const deps: Record<string, string[]> = { a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: [], f: ["e"], g: ["d", "f"], h: [] };
    const p = makeProject([
      {
        id: "order",
        execution: { max_workers: 2 },
        steps: Object.entries(deps).map(([id, dependsOn]) => recStep(id, ["--sleep", 50], { depends_on: dependsOn })),
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "order"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = readRecord(p);
    for (const [id, dependsOn] of Object.entries(deps)) {
      expect(index(lines, id, "start"), id).toBeGreaterThanOrEqual(0);
      for (const dep of dependsOn) expect(index(lines, id, "start"), `${id} after ${dep}`).toBeGreaterThan(index(lines, dep, "end"));
    }
    expect(maxOverlap(lines, isStart, isEnd)).toBeLessThanOrEqual(2);
    // The engine's own view: attempts between step-start and attempt-end.
    const events = readEvents(p, "order");
    expect(engineOverlap(p, "order")).toBeLessThanOrEqual(2);
    for (const [id, dependsOn] of Object.entries(deps)) {
      const start = events.findIndex((e) => e.type === "step-start" && e.step === id);
      for (const dep of dependsOn) expect(start).toBeGreaterThan(events.findIndex((e) => e.type === "step-end" && e.step === dep));
    }
    expect(Object.values(readState(p, "order").steps).map((s) => s.state)).toEqual(Array(8).fill("passed"));
  });

  it("fills the pool: max_workers steps do run at the same time, and no more", () => {
    // Each step waits until three starts are recorded: only a pool of at least three gets past
    // that (a smaller one would leave record.mjs's safety net to fire: wait-timeout lines).
    const p = makeProject([
      { id: "pool", execution: { max_workers: 3 }, steps: ["s1", "s2", "s3", "s4", "s5", "s6"].map((id) => recStep(id, ["--wait-starts", 3])) },
    ]);
    const r = ws(p, ["run", "--ws-id", "pool"]);
    expect(r.code).toBe(0);
    const lines = readRecord(p);
    expect(lines.filter((l) => l.event === "wait-timeout")).toEqual([]);
    expect(maxOverlap(lines, isStart, isEnd)).toBe(3);
    expect(engineOverlap(p, "pool")).toBe(3);
  });

  it("--max-workers overrides execution.max_workers", () => {
    const p = makeProject([
      { id: "override", execution: { max_workers: 4 }, steps: ["s1", "s2", "s3", "s4"].map((id) => recStep(id, ["--wait-starts", 2])) },
    ]);
    const r = ws(p, ["run", "--ws-id", "override", "--max-workers", "2"]);
    expect(r.code).toBe(0);
    const lines = readRecord(p);
    expect(lines.filter((l) => l.event === "wait-timeout")).toEqual([]);
    expect(maxOverlap(lines, isStart, isEnd)).toBe(2);
    expect(engineOverlap(p, "override")).toBe(2);
    expect(readEvents(p, "override")[0]).toMatchObject({ type: "run-start", maxWorkers: 2 });
  });

  it("parallel: false runs one step at a time", () => {
    const p = makeProject([{ id: "serial", execution: { parallel: false, max_workers: 4 }, steps: ["s1", "s2", "s3"].map((id) => recStep(id)) }]);
    expect(ws(p, ["run", "--ws-id", "serial"]).code).toBe(0);
    expect(maxOverlap(readRecord(p), isStart, isEnd)).toBe(1);
    expect(engineOverlap(p, "serial")).toBe(1);
  });

  it("rate_limit_delay: consecutive step starts are at least the delay apart", () => {
    // A lower bound on the gaps (correctness), not a speed measurement. The event's timestamp is
    // taken a moment after the scheduler's decision, in the same synchronous call, but a loaded
    // machine may preempt ws between the two (a gap of 394 ms was seen for 400): 50 ms of slack.
    // Without the delay the four starts would be a few ms apart, so the bound still tells.
    const delayMs = 400;
    const p = makeProject([
      {
        id: "rate",
        execution: { max_workers: 4, rate_limit_delay: delayMs / 1000 },
        steps: [recStep("s1"), recStep("s2", ["--fail-first", 1], { retries: 1 }), recStep("s3"), recStep("s4")],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "rate"]).code).toBe(0);
    const starts = readEvents(p, "rate")
      .filter((e) => e.type === "step-start")
      .map((e) => Date.parse(e.at));
    // Four steps and one retry: the retry is a start too.
    expect(starts).toHaveLength(5);
    for (let k = 1; k < starts.length; k++) expect(starts[k]! - starts[k - 1]!).toBeGreaterThanOrEqual(delayMs - 50);
  });

  it('file_conflicts "serialize": overlapping unordered steps never overlap in time; others still run alongside', () => {
    // x waits for z to end and z waits until two starts are recorded, so x and z must run at the
    // same time; y shares x's file_scope and may only start once x has ended.
    const p = makeProject([
      {
        id: "serialize",
        execution: { max_workers: 3, file_conflicts: "serialize" },
        steps: [
          recStep("x", ["--wait-end", "z"], { file_scope: ["src/shared/**"] }),
          recStep("y", [], { file_scope: ["src/shared/util.ts"] }),
          recStep("z", ["--wait-starts", 2], { file_scope: ["docs/**"] }),
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "serialize"]);
    expect(r.code).toBe(0);
    const lines = readRecord(p);
    expect(lines.filter((l) => l.event === "wait-timeout")).toEqual([]);
    const [xs, xe, ys, ye] = [index(lines, "x", "start"), index(lines, "x", "end"), index(lines, "y", "start"), index(lines, "y", "end")];
    expect(ye < xs || ys > xe, "x and y overlapped").toBe(true);
    expect(index(lines, "z", "start")).toBeLessThan(xe);
    expect(engineOverlap(p, "serialize", (step) => step !== "z")).toBe(1);
    const events = readEvents(p, "serialize");
    expect(eventIndex(events, "step-start", "z")).toBeLessThan(eventIndex(events, "attempt-end", "x"));
  });

  it("without serialize, the same overlap is rejected before anything runs (exit 2, both steps named)", () => {
    const p = makeProject([
      {
        id: "conflict",
        steps: [recStep("x", [], { file_scope: ["src/shared/**"] }), recStep("y", [], { file_scope: ["src/shared/util.ts"] })],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "conflict"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"x"[^\n]*"y"|"y"[^\n]*"x"/);
    expect(readRecord(p)).toEqual([]);
  });

  it("step_groups sequential: members run one at a time in listed order; depending on the group waits for all", () => {
    const p = makeProject([
      {
        id: "groups",
        execution: { max_workers: 4 },
        steps: [recStep("s3"), recStep("s1"), recStep("s2"), recStep("after", [], { depends_on: ["g"] })],
        step_groups: [{ id: "g", steps: ["s1", "s2", "s3"], execute: "sequential" }],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "groups"]).code).toBe(0);
    const lines = readRecord(p);
    const members = lines.filter((l) => l.id !== "after");
    expect(members.filter(isStart).map((l) => l.id)).toEqual(["s1", "s2", "s3"]);
    expect(maxOverlap(members, isStart, isEnd)).toBe(1);
    expect(engineOverlap(p, "groups", (step) => step !== "after")).toBe(1);
    expect(index(lines, "after", "start")).toBeGreaterThan(index(lines, "s3", "end"));
  });

  it("a false `when` skips the step without running it, and its branch: a dependent runs only if run_if always", () => {
    const workstream = {
      id: "when",
      steps: [
        recStep("build"),
        recStep("deploy", [], { depends_on: ["build"], when: "${env.DEPLOY == 'true'}" }),
        recStep("notify", [], { depends_on: ["deploy"] }),
        recStep("report", [], { depends_on: ["deploy"], run_if: "always" }),
      ],
    };
    const p = makeProject([workstream]);
    const r = ws(p, ["run", "--ws-id", "when"]);
    expect(r.code).toBe(0);
    expect(readRecord(p).filter(isStart).map((l) => l.id)).toEqual(["build", "report"]);
    const state = readState(p, "when");
    expect(state.steps.deploy).toMatchObject({ state: "skipped", reason: "skipped", attempts: 0 });
    expect(state.steps.notify).toMatchObject({ state: "skipped", reason: "skipped_by:deploy", attempts: 0 });
    expect(state.steps.report).toMatchObject({ state: "passed" });
    expect(r.stdout).toContain("skipped deploy");

    // The same file with the condition true runs it, after build and before notify.
    const q = makeProject([workstream]);
    expect(ws(q, ["run", "--ws-id", "when"], { DEPLOY: "true" }).code).toBe(0);
    expect(readRecord(q).filter(isStart).map((l) => l.id).slice(0, 2)).toEqual(["build", "deploy"]);
    expect(readRecord(q).filter(isStart).map((l) => l.id).sort()).toEqual(["build", "deploy", "notify", "report"]);
  });
});
