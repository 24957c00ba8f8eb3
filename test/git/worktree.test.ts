import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commitFiles } from "../../src/git/commit.js";
import { ensureExcluded, prepareWorktree } from "../../src/git/worktree.js";
import { isUserError, UserError } from "../../src/errors.js";
import { wsPaths } from "../../src/store/paths.js";
import { exists, git, makeEmptyRepo, makeRepo, read, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

const WS = "ws-demo";
const BRANCH = `ws/${WS}`;

function prepare(root: string, resume = false) {
  return prepareWorktree({ projectRoot: root, wsId: WS, treePath: wsPaths(root, WS).tree, resume });
}

function branches(root: string): string[] {
  return git(root, "branch", "--format=%(refname:short)").split("\n").filter(Boolean).sort();
}

function excludeLines(root: string): string[] {
  return read(root, ".git/info/exclude").split("\n").filter((line) => line.trim() === ".worktrees/");
}

describe("prepareWorktree", () => {
  it("creates the tree on ws/<id> from HEAD and hides .worktrees/ from the user's status", async () => {
    const root = makeRepo({ "src/a.ts": "a\n" });
    const head = git(root, "rev-parse", "HEAD");
    const tree = await prepare(root);
    expect(tree).toEqual({ path: wsPaths(root, WS).tree, branch: BRANCH, created: true, base: head, notes: [] });
    expect(read(tree.path, "src/a.ts")).toBe("a\n");
    expect(git(tree.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe(BRANCH);
    expect(git(root, "rev-parse", BRANCH)).toBe(head);
    expect(status(root)).toEqual([]);
    expect(excludeLines(root)).toHaveLength(1);
  });

  it("adds the exclude entry once, however often it runs", async () => {
    const root = makeRepo();
    fs.writeFileSync(path.join(root, ".git/info/exclude"), "*.log"); // no trailing newline
    await prepare(root);
    await prepare(root, true);
    await prepare(root);
    await ensureExcluded(root);
    expect(read(root, ".git/info/exclude")).toBe("*.log\n.worktrees/\n");
  });

  it("reuses the tree, its branch and its uncommitted work on resume", async () => {
    const root = makeRepo();
    const first = await prepare(root);
    writeFiles(first.path, { "wip.txt": "half done\n" });
    const again = await prepare(root, true);
    expect(again).toEqual({ ...first, created: false });
    expect(read(again.path, "wip.txt")).toBe("half done\n");
  });

  it("recreates a deleted tree from the existing branch on resume", async () => {
    const root = makeRepo();
    const first = await prepare(root);
    writeFiles(first.path, { "done.txt": "step 1\n" });
    const sha = await commitFiles({ cwd: first.path, files: ["done.txt"], message: "ws(s1): done" });
    fs.rmSync(first.path, { recursive: true, force: true });
    const again = await prepare(root, true);
    expect(again.created).toBe(true);
    expect(again.base).toBe(first.base);
    expect(git(again.path, "rev-parse", "HEAD")).toBe(sha);
    expect(read(again.path, "done.txt")).toBe("step 1\n");
  });

  it("keeps unmerged work of an earlier run under a renamed branch and starts anew from HEAD", async () => {
    const root = makeRepo();
    const first = await prepare(root);
    writeFiles(first.path, { "done.txt": "committed\n", "left.txt": "uncommitted\n" });
    const sha = await commitFiles({ cwd: first.path, files: ["done.txt"], message: "ws(s1): done" });
    const fresh = await prepare(root);
    const kept = branches(root).filter((b) => b.startsWith(`${BRANCH}-`));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^ws\/ws-demo-\d{8}-\d{6}$/);
    expect(fresh.notes.join("\n")).toContain(kept[0]);
    // Both the commit and the uncommitted file survive on the kept branch.
    expect(git(root, "rev-parse", `${kept[0]}~1`)).toBe(sha);
    expect(git(root, "show", `${kept[0]}:left.txt`)).toBe("uncommitted");
    // The new run starts clean from HEAD.
    expect(fresh.created).toBe(true);
    expect(git(root, "rev-parse", BRANCH)).toBe(git(root, "rev-parse", "HEAD"));
    expect(exists(fresh.path, "done.txt")).toBe(false);
    expect(status(fresh.path)).toEqual([]);
  });

  it("simply starts over when the old branch has nothing HEAD lacks", async () => {
    const root = makeRepo();
    await prepare(root);
    const fresh = await prepare(root);
    expect(fresh.notes).toEqual([]);
    expect(branches(root)).toEqual(["main", BRANCH]);
  });

  it("refuses a repository with no commits yet", async () => {
    const root = makeEmptyRepo();
    const error = await prepare(root).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toMatch(/no commits/);
  });

  it("refuses to take over ws/<id> while the user has it checked out", async () => {
    const root = makeRepo();
    git(root, "branch", BRANCH);
    git(root, "checkout", "-q", BRANCH);
    await expect(prepare(root)).rejects.toBeInstanceOf(UserError);
    expect(git(root, "rev-parse", "--abbrev-ref", "HEAD")).toBe(BRANCH);
  });
});

describe("the user's checkout", () => {
  it("keeps its status and HEAD while a run prepares, edits and commits in the worktree", async () => {
    const root = makeRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    // A checkout with work in progress: modified, staged, untracked.
    writeFiles(root, { "a.txt": "user edit\n", "staged.txt": "s\n", "mine.txt": "untracked\n" });
    git(root, "add", "staged.txt");
    const statusBefore = status(root);
    const headBefore = git(root, "rev-parse", "HEAD");
    const indexBefore = git(root, "ls-files", "-s");

    const tree = await prepare(root);
    writeFiles(tree.path, { "a.txt": "run edit\n", "new.txt": "n\n" });
    fs.rmSync(path.join(tree.path, "b.txt"));
    const sha = await commitFiles({ cwd: tree.path, files: ["a.txt", "b.txt", "new.txt"], message: "ws(s1): edit" });

    expect(sha).toBeDefined();
    expect(status(root)).toEqual(statusBefore);
    expect(git(root, "rev-parse", "HEAD")).toBe(headBefore);
    expect(git(root, "ls-files", "-s")).toBe(indexBefore);
    expect(read(root, "a.txt")).toBe("user edit\n");
    expect(exists(root, "b.txt")).toBe(true);
  });
});
