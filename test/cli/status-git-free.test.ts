import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { cleanup, gitProject, wsc, type Project } from "../run/rig.js";

/**
 * `ws status` of a run whose branch is merged starts no git process: "nothing to merge" is kept
 * in the run's state folder with HEAD's and the branch's commits, which ws reads from `.git`. A
 * `git` first on PATH records each call and runs the real one.
 */

afterAll(cleanup);

const REAL_GIT = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"].find((g) => fs.existsSync(g)) ?? "git";

/** A PATH whose `git` appends its arguments to calls.log, then is git. */
function recordingPath(project: Project): { PATH: string; calls: () => string[] } {
  const bin = path.join(project.dir, "..", `${path.basename(project.dir)}-shim`);
  fs.mkdirSync(bin, { recursive: true });
  const log = path.join(bin, "calls.log");
  fs.writeFileSync(path.join(bin, "git"), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${REAL_GIT}' "$@"\n`, { mode: 0o755 });
  return { PATH: `${bin}:${process.env.PATH}`, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

const env = { NO_COLOR: "1" };
const EDITS = { id: "edits", steps: [{ id: "write", tool: "shell", run: "echo x > out.txt", file_scope: ["out.txt"] }] };
const NOTHING = "branch ws/edits has nothing your checkout lacks (nothing to merge)";

describe.concurrent("ws status without git", () => {
  it("asks git once after the merge, then answers from .git alone, in ws status <id>, ws status and ws list", async () => {
    const project = gitProject([EDITS]);
    expect((await wsc(project, ["run", "edits"], env)).code).toBe(0);
    git(project.dir, "merge", "-q", "ws/edits");
    const shim = recordingPath(project);
    const first = await wsc(project, ["status", "edits"], { ...env, PATH: shim.PATH });
    expect(first.stdout).toContain(NOTHING);
    // The first answer comes from git (the shim sees it: the test can fail).
    expect(shim.calls().length).toBeGreaterThan(0);
    const asked = shim.calls().length;
    const again = await wsc(project, ["status", "edits"], { ...env, PATH: shim.PATH });
    expect(again.stdout).toContain(NOTHING);
    expect((await wsc(project, ["status"], { ...env, PATH: shim.PATH })).stdout).not.toContain("git merge");
    expect((await wsc(project, ["list"], { ...env, PATH: shim.PATH })).stdout).not.toContain("git merge");
    expect(shim.calls().slice(asked)).toEqual([]);
  });

  it("asks git again once HEAD or the branch moved, and says what git says", async () => {
    const project = gitProject([EDITS]);
    expect((await wsc(project, ["run", "edits"], env)).code).toBe(0);
    git(project.dir, "merge", "-q", "ws/edits");
    expect((await wsc(project, ["status", "edits"], env)).stdout).toContain(NOTHING);
    // New work on the run's branch: no longer merged, whatever was kept.
    git(project.dir, "checkout", "-q", "ws/edits");
    fs.writeFileSync(path.join(project.dir, "more.txt"), "more\n");
    git(project.dir, "add", "more.txt");
    git(project.dir, "commit", "-q", "-m", "more");
    git(project.dir, "checkout", "-q", "main");
    const shim = recordingPath(project);
    const status = await wsc(project, ["status", "edits"], { ...env, PATH: shim.PATH });
    expect(status.stdout).toContain("work is on branch ws/edits; merge it with: git merge ws/edits");
    expect(shim.calls().length).toBeGreaterThan(0);
  });

  it("reads the commits from packed-refs too", async () => {
    const project = gitProject([EDITS]);
    expect((await wsc(project, ["run", "edits"], env)).code).toBe(0);
    git(project.dir, "merge", "-q", "ws/edits");
    git(project.dir, "pack-refs", "--all");
    expect((await wsc(project, ["status", "edits"], env)).stdout).toContain(NOTHING);
    const shim = recordingPath(project);
    expect((await wsc(project, ["status", "edits"], { ...env, PATH: shim.PATH })).stdout).toContain(NOTHING);
    expect(shim.calls()).toEqual([]);
  });
});
