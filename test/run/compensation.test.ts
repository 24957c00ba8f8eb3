import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readRecord, readState, rec, recStep, waitFor, wsAsync, type RecordLine, wsc } from "./rig.js";

// Every test has its own project and spends most of its time waiting for ws: the tests run concurrently, so the cleanup waits for all of them.
afterAll(cleanup);

/** ws to completion without blocking the other tests of this file. */

const starts = (lines: RecordLine[]) => lines.filter((l) => l.event === "start").map((l) => l.id);

/** a → b → c pass (each with a compensation), then `bad` fails. */
function chain(extra: object = {}, undoB: Array<string | number> = []) {
  return {
    id: "comp",
    ...extra,
    steps: [
      recStep("a", [], { compensate: rec("undo-a") }),
      recStep("b", [], { depends_on: ["a"], compensate: { run: rec("undo-b", ...undoB), timeout: 30 } }),
      recStep("c", [], { depends_on: ["b"], compensate: rec("undo-c") }),
      recStep("bad", ["--exit", 2], { depends_on: ["c"] }),
    ],
  };
}

describe.concurrent("ws run: compensation", () => {
  it("a failed run compensates its passed steps in reverse finish order, each with its log", async () => {
    const p = makeProject([chain()]);
    const r = await wsc(p, ["run", "--ws-id", "comp"]);
    expect(r.code).toBe(1);
    expect(starts(readRecord(p))).toEqual(["a", "b", "c", "bad", "undo-c", "undo-b", "undo-a"]);
    const state = readState(p, "comp") as unknown as { steps: Record<string, { compensation?: { state: string } }>; rollback?: { state: string } };
    expect(state.rollback?.state).toBe("passed");
    expect(state.steps.a?.compensation?.state).toBe("passed");
    expect(fs.existsSync(path.join(p.state("comp"), "steps", "b", "compensate.log"))).toBe(true);
    expect(r.stdout).toContain("rollback (failure): compensating 3 steps, last finished first: c, b, a");
  });

  it("a failing compensation is reported and the others still run; the run's exit stays 1", async () => {
    const p = makeProject([chain({}, ["--exit", 7])]);
    const r = await wsc(p, ["run", "--ws-id", "comp"]);
    expect(r.code).toBe(1);
    expect(starts(readRecord(p))).toContain("undo-a");
    const end = readEvents(p, "comp").find((e) => e.type === "rollback-end");
    expect(end).toMatchObject({ passed: false, failed: ["b"] });
    expect((await wsc(p, ["status", "--ws-id", "comp"])).stdout).toMatch(/compensation failed: b/);
    // The JUnit report and the Markdown summary of a run show the rollback too.
    const again = makeProject([chain({}, ["--exit", 7])]);
    await wsc(again, ["run", "--ws-id", "comp", "--junit", "j.xml", "--summary", "s.md"]);
    expect(fs.readFileSync(path.join(again.dir, "j.xml"), "utf8")).toMatch(/<testcase classname="comp\.compensate" name="b" time="0">\s*<failure message="compensation exit:7"/);
    expect(fs.readFileSync(path.join(again.dir, "s.md"), "utf8")).toContain("| b | failed (exit:7) |");
  });

  it('compensation "never" leaves them for ws run --rollback, which runs them on demand', async () => {
    const p = makeProject([chain({ execution: { compensation: "never" } })]);
    expect((await wsc(p, ["run", "--ws-id", "comp"])).code).toBe(1);
    expect(starts(readRecord(p))).not.toContain("undo-a");
    const r = await wsc(p, ["run", "--ws-id", "comp", "--rollback"]);
    // The rollback worked, but the run it undid failed: it is no pass (issue 22).
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/rollback done/);
    expect(r.stdout).not.toMatch(/run passed/);
    expect(starts(readRecord(p)).slice(-3)).toEqual(["undo-c", "undo-b", "undo-a"]);
    // No step ran again.
    expect(starts(readRecord(p)).filter((id) => id === "bad")).toHaveLength(1);
  });

  it("in a git repository a compensated step's commit is undone on the run's branch, and nothing is offered to merge", async () => {
    const p = makeProject([
      {
        id: "deploy",
        steps: [
          { id: "deploy", run: "echo v2 > deployed.txt", file_scope: ["deployed.txt"], compensate: "true" },
          { id: "smoke", run: "exit 3", depends_on: ["deploy"] },
        ],
      },
    ]);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: p.dir, encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("-c", "user.name=T", "-c", "user.email=t@e", "add", "-A");
    git("-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "initial");
    const r = await wsc(p, ["run", "deploy"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/compensate deploy passed .*its commit is undone on the run's branch/);
    expect(git("ls-tree", "--name-only", "ws/deploy")).not.toContain("deployed.txt");
    expect(git("log", "--format=%s", "ws/deploy")).toContain("ws(deploy): undo (compensated)");
    expect(r.stdout).not.toContain("git merge");
    expect((await wsc(p, ["status", "deploy"])).stdout).not.toContain("git merge");
  });

  it("a resume after the fix runs an undone step again: its change is back on the branch, and no view calls it passed before", async () => {
    const p = makeProject([
      {
        id: "deploy",
        steps: [
          { id: "deploy", run: "echo v2 > deployed.txt", file_scope: ["deployed.txt"], compensate: "true" },
          { id: "smoke", run: 'test -f "$SMOKE_FLAG"', depends_on: ["deploy"] },
          { id: "notify", run: "true", depends_on: ["smoke"], run_if: "always" },
        ],
      },
    ]);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: p.dir, encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("-c", "user.name=T", "-c", "user.email=t@e", "add", "-A");
    git("-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "initial");
    const flag = path.join(p.dir, "smoke-ok");
    const first = await wsc(p, ["run", "deploy"], { SMOKE_FLAG: flag });
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/deploy\s+│ ⟲ undone/);
    const status = await wsc(p, ["status", "deploy"]);
    expect(status.stdout).toMatch(/deploy\s+│ ⟲ undone/);
    expect(status.stdout).not.toMatch(/deploy\s+│ ✔ passed/);
    fs.writeFileSync(flag, "");
    const resumed = await wsc(p, ["run", "deploy", "--resume"], { SMOKE_FLAG: flag });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/start\s+deploy \(attempt 2/);
    // The dependents run after it again, in order, and the branch holds the change.
    const starts = readEvents(p, "deploy").filter((e) => e.type === "step-start").slice(-3).map((e) => (e as { step: string }).step);
    expect(starts).toEqual(["deploy", "smoke", "notify"]);
    expect(git("ls-tree", "--name-only", "ws/deploy")).toContain("deployed.txt");
    expect(git("show", "ws/deploy:deployed.txt")).toBe("v2");
  });

  it("after a kill -9 mid-rollback, --resume finishes it without repeating finished compensations", async () => {
    const p = makeProject([chain({}, ["--wait-file", "go"])]);
    const run = wsAsync(p, ["run", "--ws-id", "comp"]);
    await waitFor("undo-b to start", () => readRecord(p).some((l) => l.id === "undo-b" && l.event === "start"));
    process.kill(run.pid, "SIGKILL");
    await run.done;
    fs.writeFileSync(path.join(p.dir, "go"), "");
    const r = await wsc(p, ["run", "--ws-id", "comp", "--resume"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const all = starts(readRecord(p));
    expect(all.filter((id) => id === "undo-c")).toHaveLength(1);
    expect(all.filter((id) => id === "undo-a")).toHaveLength(1);
    expect(all.filter((id) => id === "bad")).toHaveLength(1);
    expect((readState(p, "comp") as unknown as { rollback?: { state: string } }).rollback?.state).toBe("passed");
  });
});
