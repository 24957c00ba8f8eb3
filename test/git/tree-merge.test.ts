import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { knownHistory } from "../../src/git/known-history.js";
import { mergeCommits } from "../../src/git/run-branch.js";
import { mergeTreesInProcess } from "../../src/git/tree-merge.js";
import { flushObjects } from "../../src/git/object-writer.js";
import { git, makeRepo, removeRepos, writeFiles } from "./make-repo.js";

afterEach(() => {
  vi.unstubAllEnvs();
  removeRepos();
});

/** The git commands ws started while `work` ran (GIT_TRACE2_EVENT), by their first word. */
async function gitCommands<T>(work: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-trace-"));
  vi.stubEnv("GIT_TRACE2_EVENT", dir);
  let result: T;
  try {
    result = await work();
  } finally {
    vi.unstubAllEnvs();
  }
  const commands = fs.readdirSync(dir).flatMap((file) => {
    const start = fs.readFileSync(path.join(dir, file), "utf8").split("\n").find((line) => line.includes('"event":"start"'));
    const argv = start === undefined ? [] : (JSON.parse(start) as { argv: string[] }).argv.filter((arg, k, all) => arg !== "-c" && all[k - 1] !== "-c");
    return argv.slice(1, 2);
  });
  fs.rmSync(dir, { recursive: true, force: true });
  return { result, commands };
}

type Edit = (root: string) => void;

/** A repository whose main holds `files`, with branches `ours` and `theirs` each one commit on it. */
function sides(files: Record<string, string>, ours: Edit, theirs: Edit): { root: string; base: string; a: string; b: string } {
  const root = makeRepo(files);
  const base = git(root, "rev-parse", "HEAD");
  for (const [name, edit] of [["ours", ours], ["theirs", theirs]] as const) {
    git(root, "checkout", "-q", "-B", name, base);
    edit(root);
    git(root, "add", "-A");
    git(root, "commit", "-q", "--allow-empty", "-m", name);
  }
  return { root, base, a: git(root, "rev-parse", "ours"), b: git(root, "rev-parse", "theirs") };
}

const tree = (root: string, rev: string) => git(root, "rev-parse", `${rev}^{tree}`);

/** What git makes of the two sides: its tree, or "conflict". */
function gitMerge(root: string, a: string, b: string): string {
  try {
    return git(root, "merge-tree", "--write-tree", a, b).split("\n")[0] ?? "";
  } catch {
    return "conflict";
  }
}

const rm = (file: string) => (root: string) => fs.rmSync(path.join(root, file), { recursive: true });
const write = (files: Record<string, string>) => (root: string) => writeFiles(root, files);
const both = (...edits: Edit[]) => (root: string) => edits.forEach((edit) => edit(root));

const FILES = { "README.md": "r\n", "src/a.ts": "a\n", "src/deep/b.ts": "b\n", "docs/x.md": "x\n", "old/only.txt": "o\n" };

describe("three-way merges in process (issue 32)", () => {
  const clean: Array<[string, Edit, Edit]> = [
    ["new files in one folder and in new folders", write({ "src/one.ts": "1\n", "new/n.txt": "n\n" }), write({ "src/two.ts": "2\n", "new/m.txt": "m\n" })],
    ["changes to different files, deep and shallow", write({ "src/deep/b.ts": "b2\n" }), write({ "README.md": "r2\n", "docs/x.md": "x2\n" })],
    ["a folder emptied on one side, a file changed on the other", rm("old"), write({ "src/a.ts": "a2\n" })],
    ["the same change on both sides", write({ "src/a.ts": "same\n", "added.txt": "same\n" }), write({ "src/a.ts": "same\n", "added.txt": "same\n", "docs/x.md": "x3\n" })],
    ["one side changes nothing", () => undefined, both(write({ "src/a.ts": "a4\n" }), rm("docs"))],
  ];
  for (const [name, ours, theirs] of clean) {
    it(`makes git's tree: ${name}`, async () => {
      const { root, base, a, b } = sides(FILES, ours, theirs);
      const merged = await mergeTreesInProcess(root, tree(root, base), tree(root, a), tree(root, b));
      expect(merged).toBe(gitMerge(root, a, b));
      // The repo's long-lived writer writes the tree after the answer: waited for, so it is not
      // still writing into .git/objects when the repo is removed (CI once saw ENOTEMPTY).
      await flushObjects(root);
      git(root, "fsck", "--strict", "--no-dangling");
    });
  }

  it("leaves to git what rename detection could change: a side that adds and deletes (git moves the other side's edit along)", async () => {
    const content = "line 1\nline 2\nline 3\nline 4\nline 5\n";
    const { root, base, a, b } = sides(
      { ...FILES, "move-me.txt": content },
      both(rm("move-me.txt"), write({ "moved.txt": content })),
      write({ "move-me.txt": content.replace("line 3", "line three") }),
    );
    expect(await mergeTreesInProcess(root, tree(root, base), tree(root, a), tree(root, b))).toBeUndefined();
    // Where git's answer differs from a path-by-path merge: the edit follows the rename.
    const merged = gitMerge(root, a, b);
    expect(git(root, "show", `${merged}:moved.txt`)).toContain("line three");
  });

  it("leaves to git a file both sides changed, and a type change", async () => {
    const conflicting = sides(FILES, write({ "src/a.ts": "ours\n" }), write({ "src/a.ts": "theirs\n" }));
    expect(await mergeTreesInProcess(conflicting.root, tree(conflicting.root, conflicting.base), tree(conflicting.root, conflicting.a), tree(conflicting.root, conflicting.b))).toBeUndefined();
    const typed = sides(FILES, both(rm("docs/x.md"), (root) => fs.symlinkSync("../README.md", path.join(root, "docs/x.md"))), write({ "src/a.ts": "a5\n" }));
    expect(await mergeTreesInProcess(typed.root, tree(typed.root, typed.base), tree(typed.root, typed.a), tree(typed.root, typed.b))).toBeUndefined();
  });
});

describe("mergeCommits", () => {
  it("joins two of ws's commits in process into git's tree, and names the files of a conflict through git", async () => {
    const { root, base, a, b } = sides(FILES, write({ "src/one.ts": "1\n" }), write({ "src/two.ts": "2\n" }));
    // As ws knows them when it made them: the merge base is certain, the join needs no merge-tree.
    knownHistory.add(a, [base], tree(root, a));
    knownHistory.add(b, [base], tree(root, b));
    const { result: joined, commands } = await gitCommands(() => mergeCommits(root, a, b, "ws: join\n"));
    expect(commands).not.toContain("merge-tree");
    const commit = "commit" in joined ? joined.commit : "";
    expect(tree(root, commit)).toBe(gitMerge(root, a, b));
    expect(git(root, "log", "-1", "--format=%P", commit)).toBe(`${a} ${b}`);
    // The same two parents again: the same commit (a dependent's base and the branch's merge are one).
    expect(await mergeCommits(root, a, b, "ws: merge\n")).toEqual(joined);

    const c = sides(FILES, write({ "src/a.ts": "ours\n", "src/one.ts": "1\n" }), write({ "src/a.ts": "theirs\n" }));
    knownHistory.add(c.a, [c.base], tree(c.root, c.a));
    knownHistory.add(c.b, [c.base], tree(c.root, c.b));
    const conflict = await gitCommands(() => mergeCommits(c.root, c.a, c.b, "ws: join\n"));
    expect(conflict.commands).toContain("merge-tree");
    expect(conflict.result).toEqual({ conflict: ["src/a.ts"] });
  });
});
