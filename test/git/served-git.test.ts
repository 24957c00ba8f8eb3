import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnServer, startedSpawnServer } from "../../src/proc/spawn-server.js";
import { git as runGit, GitError } from "../../src/git/run-git.js";
import { serveGits } from "../../src/git/served-git.js";
import { git, makeRepo, removeRepos } from "./make-repo.js";

afterEach(() => removeRepos());

/** The pid of the process that started git: an alias's shell is git's child, $PPID is git. */
async function gitParent(root: string): Promise<number> {
  const args = ["-c", "alias.parent=!awk '{print $4}' /proc/$PPID/stat", "parent"];
  return Number((await runGit(root, args)).stdout.toString("utf8").trim());
}

// The spawn server runs on Linux only (spawn-server.ts); elsewhere every git is Node's.
describe.runIf(process.platform === "linux")("ws's gits once a run's spawn server runs", () => {
  // What a run does (run-workstream.ts); other commands never load the spawn server for their gits.
  beforeAll(() => serveGits());
  it("are started by the server, not forked from ws, and answer as a direct git does", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    // Before any server: Node's spawn (a command that starts no step starts no server for its gits).
    if (startedSpawnServer() === undefined) expect(await gitParent(root)).toBe(process.pid);
    expect(spawnServer()).toBeDefined();
    expect(await gitParent(root)).not.toBe(process.pid);
    // Input through a file, output bytes intact, the same ids git itself makes.
    const blob = await runGit(root, ["hash-object", "-w", "--stdin"], { input: "hello\n" });
    fs.writeFileSync(path.join(root, "hello.txt"), "hello\n");
    expect(blob.stdout.toString("utf8").trim()).toBe(git(root, "hash-object", "hello.txt").trim());
    const big = Buffer.alloc(300_000, "x");
    const sha = (await runGit(root, ["hash-object", "-w", "--stdin"], { input: big })).stdout.toString("utf8").trim();
    expect((await runGit(root, ["cat-file", "blob", sha])).stdout.equals(big)).toBe(true);
  });

  it("report failures, a missing folder and a timeout as a direct git does", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    expect(spawnServer()).toBeDefined();
    await expect(runGit(root, ["rev-parse", "--verify", "nope"])).rejects.toBeInstanceOf(GitError);
    expect((await runGit(root, ["rev-parse", "--verify", "nope"], { allowFailure: true })).code).not.toBe(0);
    await expect(runGit(path.join(root, "gone"), ["status"])).rejects.toThrow(/gone/);
    // Ended at its timeout (TERM to git; the alias's sleep keeps the pipe until it ends, as with a direct git).
    expect((await runGit(root, ["-c", "alias.slow=!sleep 1", "slow"], { timeoutMs: 100, allowFailure: true })).code).not.toBe(0);
    // No input file left behind.
    expect(fs.readdirSync(os.tmpdir()).some((f) => f.startsWith(`ws-git-input-${process.pid}-`))).toBe(false);
  });
});
