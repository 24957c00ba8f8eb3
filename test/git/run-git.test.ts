import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { commitFiles } from "../../src/git/commit.js";
import { clearStaleIndexLock } from "../../src/git/index-lock.js";
import { snapshot } from "../../src/git/changes.js";
import { git as runGit, GitError } from "../../src/git/run-git.js";
import { waitGone } from "../helpers/processes.js";
import { git, makeRepo, removeRepos, writeFiles } from "./make-repo.js";

afterEach(() => {
  vi.unstubAllEnvs();
  removeRepos();
});

const SLOW_GIT = fileURLToPath(new URL("../fixtures/guard/slow-git", import.meta.url));

/** A repository whose config and hooks name programs that leave `mark` when they run. */
function plantedRepo(): { root: string; mark: string } {
  const root = makeRepo({ "a.txt": "a\n" });
  const mark = path.join(root, "..", `${path.basename(root)}.executed`);
  const script = path.join(root, ".git", "planted.sh");
  fs.writeFileSync(script, `#!/bin/sh\necho "$0 $*" >> '${mark}'\ncat\n`, { mode: 0o755 });
  for (const hook of ["pre-commit", "post-checkout", "post-commit", "reference-transaction", "post-index-change"]) {
    fs.copyFileSync(script, path.join(root, ".git", "hooks", hook));
    fs.chmodSync(path.join(root, ".git", "hooks", hook), 0o755);
  }
  git(root, "config", "core.fsmonitor", script);
  return { root, mark };
}

describe("ws's own git commands", () => {
  it("never run hooks or an fsmonitor a step planted in the repository", async () => {
    const { root, mark } = plantedRepo();
    // The planted programs do run for a plain git here: the test can see them.
    git(root, "status");
    expect(fs.existsSync(mark)).toBe(true);
    fs.rmSync(mark);

    writeFiles(root, { "a.txt": "changed\n", "b.txt": "new\n" });
    await snapshot(root);
    await runGit(root, ["diff", "--stat", "HEAD"]);
    await runGit(root, ["checkout", "-q", "-b", "other"]);
    expect(await commitFiles({ cwd: root, files: ["a.txt", "b.txt"], message: "ws(s): work" })).toMatch(/^[0-9a-f]{40}$/);
    await runGit(root, ["update-ref", "refs/heads/x", "HEAD"]);
    await runGit(root, ["worktree", "add", "-q", path.join(root, "..", `${path.basename(root)}-tree`), "main"]);
    fs.rmSync(path.join(root, "..", `${path.basename(root)}-tree`), { recursive: true, force: true });
    expect(fs.existsSync(mark) ? fs.readFileSync(mark, "utf8") : "").toBe("");
  });

  it("end a git that hangs at the timeout with an error that says so", async () => {
    const root = makeRepo();
    const pidFile = path.join(root, "slow.pid");
    vi.stubEnv("PATH", `${SLOW_GIT}${path.delimiter}${process.env.PATH ?? ""}`);
    vi.stubEnv("SLOW_GIT_PID", pidFile);
    const error = await runGit(root, ["status"], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toMatch(/git status \(in .*\) timed out after/);
    expect(await waitGone(Number(fs.readFileSync(pidFile, "utf8")))).toBe(true);
  });
});

describe("a stale index.lock", () => {
  it("left by a kill -9 is removed, and the commit goes through", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    fs.writeFileSync(path.join(root, ".git", "index.lock"), "");
    writeFiles(root, { "a.txt": "b\n" });
    expect(await commitFiles({ cwd: root, files: ["a.txt"], message: "ws(s): after a crash" })).toMatch(/^[0-9a-f]{40}$/);
    expect(fs.existsSync(path.join(root, ".git", "index.lock"))).toBe(false);
    expect(git(root, "status", "--porcelain")).toBe("");
  });

  it("is left alone while a process holds it open", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    const lock = path.join(root, ".git", "index.lock");
    const holder = spawn("sh", ["-c", `exec 3>>'${lock}'; echo ready; exec sleep 30`], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      await new Promise((resolve) => holder.stdout.once("data", resolve));
      expect(await clearStaleIndexLock(root)).toBe("held");
      expect(fs.existsSync(lock)).toBe(true);
    } finally {
      holder.kill("SIGKILL");
    }
  });
});
