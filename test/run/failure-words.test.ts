import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, gitProject, makeProject, wsc } from "./rig.js";

/**
 * Issue 33.5, as a newcomer on a Python project met it: the reason a table, `ws status` and a CI
 * job summary show is the failure's cause; a failed run is not called interrupted the next time;
 * a step without retries that ran in three runs did not pass "after 3 attempts".
 */

afterAll(cleanup);

/** What `python -m pytest -q` prints when one of three tests fails, then its exit 1. */
const PYTEST = [
  "..F",
  "=================================== FAILURES ===================================",
  "E   assert 1 == 2",
  "=========================== short test summary info ============================",
  "FAILED tests/test_x.py::test_a - assert 1 == 2",
  "1 failed, 2 passed in 0.01s",
]
  .map((line) => `echo '${line}'`)
  .join("; ");

describe.concurrent("the reason of a failed step", () => {
  it("is the cause (pytest's summary, not found) in the table, ws status and the Markdown summary, never 'command exited with code 1'", async () => {
    const project = makeProject([
      {
        id: "py",
        steps: [
          { id: "tests", run: `${PYTEST}; exit 1` },
          { id: "venv", run: ".venv/bin/python -m pytest" },
          { id: "accept", run: "true", acceptance_tests: [`${PYTEST}; exit 1`] },
        ],
      },
    ]);
    const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-summary-")), "summary.md");
    const r = await wsc(project, ["run", "py", "--no-color"], { GITHUB_STEP_SUMMARY: summary, COLUMNS: "400" });
    expect(r.code).toBe(1);
    const status = await wsc(project, ["status", "py", "--no-color"], { COLUMNS: "400" });
    const md = fs.readFileSync(summary, "utf8");
    for (const [where, text] of [["run", r.stdout], ["status", status.stdout], ["summary", md]] as const) {
      expect(text, where).toContain("exit:1: 1 failed, 2 passed in 0.01s; FAILED tests/test_x.py::test_a - assert 1 == 2");
      expect(text, where).toContain("exit:127: not found: .venv/bin/python");
      expect(text, where).toContain("tests_failed: acceptance test 1 exited 1: 1 failed, 2 passed in 0.01s; FAILED tests/test_x.py::test_a");
      expect(text, where).not.toContain("command exited with code");
    }
  });
});

describe.concurrent("after a failed run", () => {
  it("the next run does not keep the failed step's work again as what 'an interrupted run left'", async () => {
    const project = gitProject([{ id: "w", steps: [{ id: "half", run: "echo half > half.txt; exit 1", file_scope: ["half.txt"] }] }]);
    const first = await wsc(project, ["run", "w"]);
    expect(first.code).toBe(1);
    expect(fs.readFileSync(path.join(project.state("w"), "steps", "half", "attempt-1.leftover.patch"), "utf8")).toContain("+half");
    const second = await wsc(project, ["run", "w"]);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).not.toContain("an interrupted run left");
    expect(fs.existsSync(path.join(project.state("w"), "leftovers"))).toBe(false);
  });

  it("a step without retries that failed in two runs and passed on the third resume passed after 1 attempt, not 3", async () => {
    const marks = fs.mkdtempSync(path.join(os.tmpdir(), "ws-marks-"));
    const count = path.join(marks, "count");
    // Fails on its first two runs, passes on the third.
    const run = `echo x >> '${count}'; test "$(wc -l < '${count}')" -ge 3`;
    const project = makeProject([{ id: "r", steps: [{ id: "flaky", run, retries: 0 }] }]);
    expect((await wsc(project, ["run", "r"])).code).toBe(1);
    expect((await wsc(project, ["run", "r", "--resume"])).code).toBe(1);
    const third = await wsc(project, ["run", "r", "--resume", "--no-color"]);
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.stdout).toContain("1 attempt (3 counting earlier runs)");
    expect(third.stdout).not.toMatch(/after 3 attempts/);
  });
});
