import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { status } from "../git/make-repo.js";
import { agentProject, cleanup, filesOf, git, outcomes, readState, run, tempDir, type AgentProject } from "../agents/rig.js";

/**
 * Issue 14, "commit phase and resume": a step counts as passed only once its commit exists, and
 * `--resume` commits what interrupted attempts left in the worktree. The on-disk state a kill -9
 * leaves at each point of the commit is made exactly (branch, index, events.jsonl), so no test
 * depends on when a signal lands.
 */

afterEach(cleanup);

const ID = "commits";

function project(run: string, scope: string[]): AgentProject {
  const p = agentProject({ id: ID, steps: [{ id: "s", run, file_scope: scope }] });
  fs.appendFileSync(path.join(p.dir, ".git", "info", "exclude"), ".worktrees/\n");
  return p;
}

/** events.jsonl as a kill -9 right after the step's passing attempt-end leaves it; state.json gone. */
function cutAfterPassedAttempt(p: AgentProject): void {
  const file = path.join(p.state, "events.jsonl");
  const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
  const end = lines.findIndex((l) => l.includes('"type":"attempt-end"') && l.includes('"passed":true'));
  expect(end).toBeGreaterThan(0);
  fs.writeFileSync(file, lines.slice(0, end + 1).join("\n") + "\n");
  fs.rmSync(path.join(p.state, "state.json"), { force: true });
}

const count = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0);

describe("commit phase and resume", () => {
  it("commits on --resume the file a failed attempt wrote, past a stale index.lock a kill -9 left", () => {
    const go = path.join(tempDir("ws-guard-go-"), "go");
    const p = project(`if [ -f '${go}' ]; then exit 0; fi; echo s > s.txt; exit 1`, ["s.txt"]);
    expect(run(p).code).toBe(1);
    expect(outcomes(p)).toEqual({ s: ["failed", 1, "exit:1"] });
    const lock = path.resolve(p.tree, git(p.tree, "rev-parse", "--git-path", "index.lock"));
    fs.writeFileSync(lock, "");

    fs.writeFileSync(go, "");
    const r = run(p, ["--resume"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed a stale index\.lock/);
    expect(fs.existsSync(lock)).toBe(false);
    const commit = readState(p).steps.s?.commit ?? "";
    expect(filesOf(p.dir, commit)).toEqual(["s.txt"]);
    expect(git(p.dir, "rev-parse", `ws/${ID}`)).toBe(commit);
    expect(status(p.tree)).toEqual([]);
  });

  it("finishes a commit that a kill -9 cut short before the branch moved, without running the step again", () => {
    const calls = path.join(tempDir("ws-guard-calls-"), "calls");
    const p = project(`echo run >> '${calls}'; mkdir -p out; for i in $(seq 1 40); do echo $i > out/$i.txt; done`, ["out/**"]);
    expect(run(p).code).toBe(0);
    const made = readState(p).steps.s?.commit ?? "";
    // Killed before update-ref: the branch and the index are where they were, the files are not committed.
    git(p.tree, "update-ref", `refs/heads/ws/${ID}`, `${made}~1`);
    git(p.tree, "reset", "-q");
    expect(status(p.tree)).toContain("?? out/1.txt");
    cutAfterPassedAttempt(p);

    const r = run(p, ["--resume"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(count(calls)).toBe(1);
    expect(outcomes(p)).toEqual({ s: ["passed", 1, "passed"] });
    const commit = readState(p).steps.s?.commit ?? "";
    expect(filesOf(p.dir, commit)).toHaveLength(40);
    expect(git(p.dir, "rev-parse", `ws/${ID}`)).toBe(commit);
    expect(status(p.tree)).toEqual([]);
  });

  it("counts a commit that landed before the kill -9 (only the index was behind) and does not commit twice", () => {
    const calls = path.join(tempDir("ws-guard-calls-"), "calls");
    const p = project(`echo run >> '${calls}'; mkdir -p out; for i in $(seq 1 40); do echo $i > out/$i.txt; done`, ["out/**"]);
    expect(run(p).code).toBe(0);
    const made = readState(p).steps.s?.commit ?? "";
    git(p.tree, "read-tree", `${made}~1`);
    cutAfterPassedAttempt(p);

    const r = run(p, ["--resume"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(count(calls)).toBe(1);
    expect(readState(p).steps.s?.commit).toBe(made);
    expect(git(p.dir, "rev-parse", `ws/${ID}`)).toBe(made);
    expect(status(p.tree)).toEqual([]);
  });
});
