import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { status } from "../git/make-repo.js";
import { agentProject, cleanup, filesOf, git, outcomes, readState, run, tempDir, type AgentProject } from "../agents/rig.js";

/**
 * Issue 14, "commit phase and resume", as issue 20 reshaped it: a step counts as passed only once
 * its commit is on the run's branch; what an attempt that did not pass left in its worktree is
 * kept as a patch in the state folder, never committed. The on-disk state a kill -9 leaves at each
 * point is made exactly (branch, index.lock, events.jsonl), so no test depends on when a signal lands.
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
  it("keeps what a failed attempt left as a patch, not a commit, and gets past a stale index.lock a kill -9 left", () => {
    const go = path.join(tempDir("ws-guard-go-"), "go");
    const p = project(`if [ -f '${go}' ]; then exit 0; fi; echo s > s.txt; exit 1`, ["s.txt"]);
    expect(run(p).code).toBe(1);
    expect(outcomes(p)).toEqual({ s: ["failed", 1, "exit:1"] });
    const patch = fs.readFileSync(path.join(p.stepDir("s"), "attempt-1.leftover.patch"), "utf8");
    expect(patch).toContain("+++ b/s.txt");
    const base = git(p.dir, "rev-parse", `ws/${ID}`);
    const lock = path.resolve(p.tree, git(p.tree, "rev-parse", "--git-path", "index.lock"));
    fs.writeFileSync(lock, "");

    fs.writeFileSync(go, "");
    const r = run(p, ["--resume"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed a stale index\.lock/);
    expect(fs.existsSync(lock)).toBe(false);
    // The attempt that passed changed nothing: nothing is committed, and the failed one's file is not either.
    expect(readState(p).steps.s?.commit).toBeUndefined();
    expect(git(p.dir, "rev-parse", `ws/${ID}`)).toBe(base);
    expect(status(p.tree)).toEqual([]);
  });

  it("runs a step again on --resume when a kill -9 cut its commit short, and its work lands once", () => {
    const calls = path.join(tempDir("ws-guard-calls-"), "calls");
    const p = project(`echo run >> '${calls}'; mkdir -p out; for i in $(seq 1 40); do echo $i > out/$i.txt; done`, ["out/**"]);
    expect(run(p).code).toBe(0);
    const made = readState(p).steps.s?.commit ?? "";
    // Killed before the branch moved: the commit exists in the step's worktree only.
    git(p.dir, "update-ref", `refs/heads/ws/${ID}`, `${made}~1`);
    cutAfterPassedAttempt(p);

    const r = run(p, ["--resume"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(count(calls)).toBe(2);
    expect(outcomes(p)).toEqual({ s: ["passed", 2, "passed"] });
    const commit = readState(p).steps.s?.commit ?? "";
    expect(filesOf(p.dir, commit)).toHaveLength(40);
    expect(git(p.dir, "rev-parse", `ws/${ID}`)).toBe(commit);
    expect(git(p.dir, "rev-list", "--count", `${made}~1..ws/${ID}`)).toBe("1");
  });
});
