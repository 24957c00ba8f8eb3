import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commitFiles } from "../../src/git/commit.js";
import { listBackups, MAX_BACKUPS, trailerLine } from "../../src/git/branch-name.js";
import { resolveBase } from "../../src/git/working-tree-base.js";
import { ensureExcluded, prepareWorktree } from "../../src/git/worktree.js";
import { isUserError, UserError } from "../../src/errors.js";
import { wsPaths } from "../../src/store/paths.js";
import { exists, git, makeEmptyRepo, makeRepo, read, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

const WS = "ws-demo";
const BRANCH = `ws/${WS}`;

async function prepare(root: string, resume = false) {
  await ensureExcluded(root);
  const base = await resolveBase(root, WS);
  return prepareWorktree({ projectRoot: root, wsId: WS, branch: BRANCH, treePath: wsPaths(root, WS).tree, resume, base: base.commit });
}

function branches(root: string): string[] {
  return git(root, "branch", "--format=%(refname:short)").split("\n").filter(Boolean).sort();
}

function backups(root: string): string[] {
  return branches(root).filter((b) => b.startsWith(`${BRANCH}-`));
}

function excludeLines(root: string): string[] {
  return read(root, ".git/info/exclude").split("\n").filter((line) => line.trim() === ".worktrees/");
}

/** A commit the way a step of this workstream makes it (with ws's trailer). */
function stepCommit(tree: string, file: string): Promise<string | undefined> {
  writeFiles(tree, { [file]: `${file} by a step\n` });
  return commitFiles({ cwd: tree, files: [file], message: `ws(s1): ${file}\n\n${trailerLine(WS)}` });
}

describe("prepareWorktree", () => {
  it("creates the tree on ws/<id> from HEAD and hides .worktrees/ from the user's status", async () => {
    const root = makeRepo({ "src/a.ts": "a\n" });
    const head = git(root, "rev-parse", "HEAD");
    const tree = await prepare(root);
    expect(tree).toEqual({ path: wsPaths(root, WS).tree, branch: BRANCH, created: true, reused: false, base: head, notes: [] });
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

  it("continues in the tree, its branch and its uncommitted work on resume", async () => {
    const root = makeRepo();
    const first = await prepare(root);
    writeFiles(first.path, { "wip.txt": "half done\n" });
    const again = await prepare(root, true);
    expect(again).toEqual({ ...first, created: false, reused: true });
    expect(read(again.path, "wip.txt")).toBe("half done\n");
  });

  it("recreates a deleted tree from the existing branch on resume", async () => {
    const root = makeRepo();
    const first = await prepare(root);
    const sha = await stepCommit(first.path, "done.txt");
    fs.rmSync(first.path, { recursive: true, force: true });
    const again = await prepare(root, true);
    expect(again.created).toBe(true);
    expect(again.base).toBe(first.base);
    expect(git(again.path, "rev-parse", "HEAD")).toBe(sha);
  });

  it("reuses the tree on a fresh run: reset to the new base, ignored files kept, leftovers gone", async () => {
    const root = makeRepo({ ".gitignore": "node_modules/\n", "a.txt": "a\n" });
    const first = await prepare(root);
    writeFiles(first.path, { "node_modules/dep/index.js": "installed\n" });
    await stepCommit(first.path, "made.txt");
    writeFiles(root, { "a.txt": "edited by the user\n" });
    const again = await prepare(root);
    expect(again).toMatchObject({ path: first.path, created: false, reused: true });
    expect(again.notes.join("\n")).toMatch(/reused the worktree/);
    expect(read(again.path, "node_modules/dep/index.js")).toBe("installed\n");
    expect(exists(again.path, "made.txt")).toBe(false);
    expect(read(again.path, "a.txt")).toBe("edited by the user\n");
    expect(git(root, "rev-parse", BRANCH)).toBe(again.base);
    expect(status(again.path)).toEqual([]);
  });

  it("keeps no backup when the old branch only holds commits ws made for this workstream", async () => {
    const root = makeRepo();
    for (let run = 1; run <= 4; run++) {
      const tree = await prepare(root);
      await stepCommit(tree.path, `run-${run}.txt`);
    }
    expect(backups(root)).toEqual([]);
    expect(branches(root)).toEqual(["main", BRANCH]);
  });

  it("keeps a backup of commits made by hand in the tree and of uncommitted leftovers", async () => {
    const root = makeRepo();
    const first = await prepare(root);
    await stepCommit(first.path, "by-ws.txt");
    writeFiles(first.path, { "by-hand.txt": "committed by hand\n", "left.txt": "uncommitted\n" });
    git(first.path, "add", "by-hand.txt");
    git(first.path, "commit", "-q", "-m", "my own fix");
    const fresh = await prepare(root);
    const kept = backups(root);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^ws\/ws-demo-\d{8}-\d{6}$/);
    expect(fresh.notes.join("\n")).toContain(kept[0]);
    expect(git(root, "show", `${kept[0]}:by-hand.txt`)).toBe("committed by hand");
    expect(git(root, "show", `${kept[0]}:left.txt`)).toBe("uncommitted");
    expect(exists(fresh.path, "by-hand.txt")).toBe(false);
  });

  it(`keeps at most ${MAX_BACKUPS} backups, deleting the oldest`, async () => {
    const root = makeRepo();
    for (let run = 1; run <= MAX_BACKUPS + 2; run++) {
      const tree = await prepare(root);
      writeFiles(tree.path, { [`hand-${run}.txt`]: "x\n" });
      git(tree.path, "add", ".");
      git(tree.path, "commit", "-q", "-m", `by hand ${run}`);
    }
    await prepare(root);
    const kept = await listBackups(root, BRANCH);
    expect(kept).toHaveLength(MAX_BACKUPS);
    // The newest backups survive: the last one holds the last hand commit.
    expect(git(root, "log", "-1", "--format=%s", kept.at(-1)!)).toBe(`by hand ${MAX_BACKUPS + 2}`);
    expect(git(root, "log", "-1", "--format=%s", kept[0]!)).toBe("by hand 3");
  });

  it("refuses a repository with no commits yet", async () => {
    const root = makeEmptyRepo();
    const error = await prepare(root).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toMatch(/no commits/);
  });

  it("refuses to run on ws/<id> while the user has it checked out, touching nothing", async () => {
    const root = makeRepo();
    git(root, "branch", BRANCH);
    git(root, "checkout", "-q", BRANCH);
    const error = await prepare(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/checked out in/);
    expect((error as UserError).options.fix).toMatch(/switch that checkout/);
    expect(git(root, "rev-parse", "--abbrev-ref", "HEAD")).toBe(BRANCH);
    expect(exists(root, ".worktrees/ws-demo/tree")).toBe(false);
  });
});

describe("the user's checkout", () => {
  it("keeps its status, index and HEAD while a run takes its base, edits and commits in the worktree", async () => {
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
    expect(git(root, "stash", "list")).toBe("");
    expect(read(root, "a.txt")).toBe("user edit\n");
    expect(exists(root, "b.txt")).toBe(true);
  });
});
