import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NoCommitsError, resolveBase } from "../../src/git/working-tree-base.js";
import { ensureExcluded } from "../../src/git/worktree.js";
import { UserError } from "../../src/errors.js";
import { git, makeEmptyRepo, makeRepo, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

function filesOf(root: string, commit: string): string[] {
  return git(root, "ls-tree", "-r", "--name-only", commit).split("\n").filter(Boolean).sort();
}

describe("resolveBase", () => {
  it("is HEAD itself when nothing differs from it", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    writeFiles(root, { "ignored.log": "x\n", ".gitignore": "*.log\n" });
    git(root, "add", ".gitignore");
    git(root, "commit", "-q", "-m", "ignore logs");
    const base = await resolveBase(root, "w");
    expect(base).toEqual({ commit: git(root, "rev-parse", "HEAD"), source: "working tree", uncommitted: [] });
  });

  it("takes tracked changes, staged files, deletions and untracked files git does not ignore; leaves the user's index, status and stash alone", async () => {
    const root = makeRepo({ "a.txt": "a\n", "gone.txt": "g\n", ".gitignore": "*.log\nbuild/\n" });
    await ensureExcluded(root);
    writeFiles(root, { "a.txt": "edited\n", "staged.txt": "s\n", "new/untracked.txt": "u\n", "debug.log": "ignored\n", "build/out.js": "ignored\n", ".worktrees/w/state.json": "{}\n" });
    fs.rmSync(path.join(root, "gone.txt"));
    git(root, "add", "staged.txt");
    const statusBefore = status(root);
    const indexBefore = git(root, "ls-files", "-s", "--debug");
    const head = git(root, "rev-parse", "HEAD");

    const base = await resolveBase(root, "w");

    expect(base.source).toBe("working tree");
    expect(base.uncommitted.sort()).toEqual(["a.txt", "gone.txt", "new/untracked.txt", "staged.txt"]);
    expect(git(root, "rev-parse", `${base.commit}^`)).toBe(head);
    expect(filesOf(root, base.commit)).toEqual([".gitignore", "a.txt", "new/untracked.txt", "staged.txt"]);
    // A merge puts this commit into the project's history: its message names no local path.
    const message = git(root, "log", "-1", "--format=%B", base.commit);
    expect(message).toMatch(/^ws: uncommitted work the run started from \(4 uncommitted files\)\n/);
    expect(message).not.toContain(root);
    expect(git(root, "show", `${base.commit}:a.txt`)).toBe("edited");
    expect(git(root, "log", "-1", "--format=%B", base.commit)).toContain("Ws-Workstream: w");
    expect(status(root)).toEqual(statusBefore);
    expect(git(root, "ls-files", "-s", "--debug")).toBe(indexBefore);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(git(root, "stash", "list")).toBe("");
  });

  it("with a ref (--base HEAD) leaves uncommitted changes out", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    writeFiles(root, { "a.txt": "edited\n" });
    const base = await resolveBase(root, "w", "HEAD");
    expect(base).toEqual({ commit: git(root, "rev-parse", "HEAD"), source: "HEAD", uncommitted: [] });
  });

  it("says which ref is unknown and how to fix it", async () => {
    const root = makeRepo();
    const error = await resolveBase(root, "w", "no-such-branch").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`--base no-such-branch: no such commit in ${root}`);
    expect((error as UserError).options.fix).toMatch(/--base HEAD/);
  });

  it("is a NoCommitsError (the one case that may run in place) in an empty repository", async () => {
    const root = makeEmptyRepo();
    writeFiles(root, { "a.txt": "a\n" });
    await expect(resolveBase(root, "w")).rejects.toBeInstanceOf(NoCommitsError);
  });
});
