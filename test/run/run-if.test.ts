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
