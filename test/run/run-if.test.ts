import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readRecord, readState, recStep, waitFor, writeWorkstream, ws, wsAsync, type RecordLine } from "./rig.js";

afterEach(cleanup);

const startsOf = (lines: RecordLine[], id: string) => lines.filter((l) => l.id === id && l.event === "start");

describe("ws run: run_if", () => {
  it("after a failure: always and failure steps run, a failure step whose dependencies passed is skipped with its reason", () => {
    const p = makeProject([
      {
        id: "runif",
        steps: [
          recStep("build", ["--exit", 3]),
          recStep("ok"),
          recStep("report", [], { depends_on: ["build"], run_if: "always" }),
          recStep("notify", [], { depends_on: ["build"], run_if: "failure" }),
          recStep("calm", [], { depends_on: ["ok"], run_if: "failure" }),
          recStep("deploy", [], { depends_on: ["build"] }),
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "runif"]);
    expect(r.code).toBe(1);
    const { steps } = readState(p, "runif");
    expect(steps.report).toMatchObject({ state: "passed" });
    expect(steps.notify).toMatchObject({ state: "passed" });
    expect(steps.calm).toMatchObject({ state: "skipped", reason: "run_if:failure", attempts: 0 });
    expect(steps.deploy).toMatchObject({ state: "blocked", reason: "blocked_by:build" });
    expect(startsOf(readRecord(p), "calm")).toEqual([]);
    const status = ws(p, ["status", "--ws-id", "runif"]);
    expect(status.stdout).toMatch(/calm .*skipped.*run_if:failure/);
  });

  it("an always step is told its dependencies' results, as GitHub's needs context: WS_NEEDS and WS_NEEDS_FILE", () => {
    const p = makeProject([
      {
        id: "needs",
        steps: [
          { id: "lint", run: "exit 3" },
          { id: "unit", run: "echo 'n=4' >> \"$WS_OUTPUT\"" },
          { id: "build", run: "true", depends_on: ["lint"] },
          {
            id: "report",
            run: "printf %s \"$WS_NEEDS\" > needs.env.json && cp \"$WS_NEEDS_FILE\" needs.file.json",
            depends_on: ["lint", "unit", "build"],
            run_if: "always",
            acceptance_tests: ["test -n \"$WS_NEEDS\""],
          },
          { id: "plain", run: "printf %s \"${WS_NEEDS-unset}\" > plain.txt", depends_on: ["unit"] },
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "needs"]);
    expect(r.code).toBe(1);
    expect(readState(p, "needs").steps.report).toMatchObject({ state: "passed" });
    const told = JSON.parse(fs.readFileSync(path.join(p.dir, "needs.env.json"), "utf8")) as Record<string, Record<string, unknown>>;
    expect(told).toEqual({
      lint: { result: "failure", outputs: {}, state: "failed", reason: expect.stringMatching(/^exit:3/) },
      unit: { result: "success", outputs: { n: "4" }, state: "passed" },
      // GitHub calls a job skipped when a job it needs failed; ws's own word says why.
      build: { result: "skipped", outputs: {}, state: "blocked", reason: "blocked_by:lint" },
    });
    expect(JSON.parse(fs.readFileSync(path.join(p.dir, "needs.file.json"), "utf8"))).toEqual(told);
    // A run_if: success step's dependencies all passed: it is not told.
    expect(fs.readFileSync(path.join(p.dir, "plain.txt"), "utf8")).toBe("unset");

    // --only the report: its dependencies' results come from the last run.
    fs.rmSync(path.join(p.dir, "needs.env.json"));
    expect(ws(p, ["run", "--ws-id", "needs", "--only", "report"]).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(p.dir, "needs.env.json"), "utf8"))).toEqual(told);
  });

  it("a dependency this run does not know is taken from the WS_NEEDS ws was given (an exported job's toJSON(needs))", () => {
    const p = makeProject([
      { id: "given", steps: [{ id: "test", run: "true" }, { id: "notify", run: "printf %s \"$WS_NEEDS\" > told.json", depends_on: ["test"], run_if: "always" }] },
    ]);
    const needs = JSON.stringify({ test: { result: "failure", outputs: {} } });
    expect(ws(p, ["run", "--ws-id", "given", "--only", "notify"], { WS_NEEDS: needs }).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(p.dir, "told.json"), "utf8"))).toEqual({ test: { result: "failure", outputs: {} } });
  });

  it("Ctrl-C: running steps are cancelled, the always step still runs once before exit 130", async () => {
    const p = makeProject([
      {
        id: "intr",
        steps: [recStep("work", ["--hang"]), recStep("cleanup", [], { depends_on: ["work"], run_if: "always" }), recStep("after", [], { depends_on: ["work"] })],
      },
    ]);
    const run = wsAsync(p, ["run", "--ws-id", "intr"]);
    await waitFor("work to start", () => startsOf(readRecord(p), "work").length > 0);
    process.kill(run.pid, "SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    const { steps } = readState(p, "intr");
    expect(steps.work).toMatchObject({ state: "cancelled" });
    expect(steps.cleanup).toMatchObject({ state: "passed", attempts: 1 });
    expect(steps.after).toMatchObject({ state: "cancelled", attempts: 0 });
    expect(startsOf(readRecord(p), "cleanup")).toHaveLength(1);
  });

  it("a second Ctrl-C skips the always steps", async () => {
    const p = makeProject([
      {
        id: "twice",
        steps: [recStep("work", ["--hang"]), recStep("cleanup", ["--hang"], { depends_on: ["work"], run_if: "always" }), recStep("late", [], { depends_on: ["cleanup"], run_if: "always" })],
      },
    ]);
    const run = wsAsync(p, ["run", "--ws-id", "twice"]);
    await waitFor("work to start", () => startsOf(readRecord(p), "work").length > 0);
    process.kill(run.pid, "SIGINT");
    await waitFor("cleanup to start", () => startsOf(readRecord(p), "cleanup").length > 0);
    process.kill(run.pid, "SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    const { steps } = readState(p, "twice");
    expect(steps.cleanup?.state).not.toBe("passed");
    expect(steps.late).toMatchObject({ state: "cancelled", attempts: 0 });
    expect(startsOf(readRecord(p), "late")).toEqual([]);
    expect(readEvents(p, "twice").at(-1)).toMatchObject({ type: "run-end", exitCode: 130 });
    expect(fs.existsSync(path.join(p.state("twice"), "lock"))).toBe(false);
  });

  it("--resume after Ctrl-C runs the always report again over the checks it re-runs", async () => {
    const p = makeProject([{ id: "stale", steps: [] }]);
    const go = path.join(p.dir, "go");
    const doc = {
      id: "stale",
      steps: [recStep("check", ["--wait-file", go]), recStep("report", [], { depends_on: ["check"], run_if: "always" })],
    };
    writeWorkstream(p.dir, doc);
    const run = wsAsync(p, ["run", "stale"]);
    await waitFor("check to start", () => startsOf(readRecord(p), "check").length > 0);
    process.kill(run.pid, "SIGINT");
    expect((await run.done).code).toBe(130);
    expect(readState(p, "stale").steps.report).toMatchObject({ state: "passed", attempts: 1 });
    fs.writeFileSync(go, "");
    const resumed = ws(p, ["run", "stale", "--resume"]);
    expect(resumed.code).toBe(0);
    const { steps } = readState(p, "stale");
    expect(steps.check).toMatchObject({ state: "passed" });
    expect(steps.report).toMatchObject({ state: "passed", attempts: 2 });
    expect(startsOf(readRecord(p), "report")).toHaveLength(2);
  });
});
