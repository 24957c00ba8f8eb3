import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeProject, readState, recStep, ws } from "./rig.js";

afterAll(() => cleanup());

const logsOf = (dir: string) => fs.readdirSync(dir).filter((f) => /^attempt-\d+\.log$/.test(f)).sort();

describe("attempt logs across runs", () => {
  it("--resume continues the attempt numbering; a fresh run starts the step's logs anew", () => {
    const p = makeProject([{ id: "logs", steps: [recStep("flaky", ["--fail-first", 1])] }]);
    const stepDir = path.join(p.state("logs"), "steps", "flaky");

    expect(ws(p, ["run", "--ws-id", "logs"]).code).toBe(1);
    const first = fs.readFileSync(path.join(stepDir, "attempt-1.log"), "utf8");

    expect(ws(p, ["run", "--ws-id", "logs", "--resume"]).code).toBe(0);
    expect(logsOf(stepDir)).toEqual(["attempt-1.log", "attempt-2.log"]);
    // The interrupted run's log is left as it was, not appended to.
    expect(fs.readFileSync(path.join(stepDir, "attempt-1.log"), "utf8")).toBe(first);
    expect(readState(p, "logs").steps.flaky).toMatchObject({ state: "passed", attempts: 2 });
    // `ws logs` shows the latest attempt.
    expect(ws(p, ["logs", "--ws-id", "logs", "--step", "flaky"]).stdout).toBe(fs.readFileSync(path.join(stepDir, "attempt-2.log"), "utf8"));

    expect(ws(p, ["run", "--ws-id", "logs"]).code).toBe(0);
    expect(logsOf(stepDir)).toEqual(["attempt-1.log"]);
    expect(readState(p, "logs").steps.flaky).toMatchObject({ state: "passed", attempts: 1 });
  });

  it("a resume in which the step did not run (its when was false) does not restart the numbering for the next resume", () => {
    const p = makeProject([{ id: "gap", steps: [recStep("s", ["--fail-first", 1], { when: "${env.RUN_S}" })] }]);
    const stepDir = path.join(p.state("gap"), "steps", "s");
    expect(ws(p, ["run", "--ws-id", "gap"], { RUN_S: "true" }).code).toBe(1);
    const first = fs.readFileSync(path.join(stepDir, "attempt-1.log"), "utf8");
    // Skipped: its step-end records 0 attempts.
    expect(ws(p, ["run", "--ws-id", "gap", "--resume"]).code).toBe(0);
    expect(readState(p, "gap").steps.s).toMatchObject({ state: "skipped", attempts: 0 });

    const r = ws(p, ["run", "--ws-id", "gap", "--resume"], { RUN_S: "true" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("start  s (attempt 2, shell)");
    expect(logsOf(stepDir)).toEqual(["attempt-1.log", "attempt-2.log"]);
    expect(fs.readFileSync(path.join(stepDir, "attempt-1.log"), "utf8")).toBe(first);
  });
});
