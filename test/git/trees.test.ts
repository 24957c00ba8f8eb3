import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compareEntries, editTree, parseTree, serializeTree, treeEntries, treeOfCommit, type PathChange, type TreeEntry } from "../../src/git/trees.js";
import { git, makeRepo, removeRepos, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

/** What git makes of `changes` (paths from the top): a scratch index read from HEAD, update-index of the paths, write-tree. */
function gitTree(root: string, paths: string[]): string {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(root, ".git", "scratch-index") };
  const run = (args: string[], input?: string) => execFileSync("git", args, { cwd: root, env, input, encoding: "utf8" }).trim();
  run(["read-tree", "HEAD"]);
  run(["update-index", "--add", "--remove", "-z", "--stdin"], paths.map((p) => `${p}\0`).join(""));
  const tree = run(["write-tree"]);
  fs.rmSync(env.GIT_INDEX_FILE, { force: true });
  return tree;
}

/** The change a path's file makes, as ws hands it to editTree: its blob and mode, or null when gone. */
function changeOf(root: string, file: string): PathChange {
  const full = path.join(root, file);
  if (!fs.existsSync(full)) return null;
  return { mode: fs.statSync(full).mode & 0o100 ? "100755" : "100644", id: git(root, "hash-object", "-w", "--", file) };
}

const latin1 = (file: string) => Buffer.from(file, "utf8").toString("latin1");

describe("tree objects in process (issue 32)", () => {
  it("reads a tree as git wrote it and writes back the same bytes, in git's order", async () => {
    const root = makeRepo({ "ab": "1\n", "a.b": "2\n", "a-c/x": "3\n", "a/y": "4\n", "a0": "5\n", "ünï/日本.txt": "6\n", "run.sh": "7\n" });
    fs.chmodSync(path.join(root, "run.sh"), 0o755);
    fs.symlinkSync("a", path.join(root, "link"));
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "modes");
    const tree = git(root, "rev-parse", "HEAD^{tree}");
    expect(await treeOfCommit(root, "HEAD")).toBe(tree);
    const entries = (await treeEntries(root, tree))!;
    expect(entries.map((e) => `${e.mode} ${Buffer.from(e.name, "latin1").toString("utf8")}`)).toEqual(git(root, "ls-tree", "HEAD").split("\n").map((l) => l.replace(/^0/, "").replace(/ (blob|tree|commit) [0-9a-f]+\t/, " ")));
    const raw = execFileSync("git", ["cat-file", "tree", tree], { cwd: root });
    expect(serializeTree(entries).equals(raw)).toBe(true);
    expect([...entries].sort(compareEntries)).toEqual(entries);
  });

  it("leaves alone a tree git would not write so (a mode like 100664, entries out of order)", async () => {
    const root = makeRepo();
    const blob = git(root, "rev-parse", "HEAD:README.md");
    const odd = (entries: TreeEntry[]) => {
      fs.writeFileSync(path.join(root, "odd"), serializeTree(entries));
      return git(root, "hash-object", "-w", "-t", "tree", "--literally", "odd");
    };
    expect(await treeEntries(root, odd([{ mode: "100664", name: "a", id: blob }]))).toBeUndefined();
    expect(await treeEntries(root, odd([{ mode: "100644", name: "b", id: blob }, { mode: "100644", name: "a", id: blob }]))).toBeUndefined();
    expect(parseTree(Buffer.from("100644 truncated"), 20)).toBeUndefined();
  });

  it("edits a tree as update-index --add --remove and write-tree do: new folders, changes, modes, deletions that empty a folder", async () => {
    const root = makeRepo({ "keep.txt": "k\n", "src/a.ts": "a\n", "src/deep/b.ts": "b\n", "gone/only.txt": "g\n", "tool.sh": "t\n" });
    writeFiles(root, { "src/a.ts": "a2\n", "new/dir/n.txt": "n\n", "src/deep/c.ts": "c\n", "ünï/日本.txt": "u\n" });
    fs.rmSync(path.join(root, "gone"), { recursive: true });
    fs.rmSync(path.join(root, "src/deep/b.ts"));
    fs.chmodSync(path.join(root, "tool.sh"), 0o755);
    const paths = ["src/a.ts", "new/dir/n.txt", "src/deep/c.ts", "ünï/日本.txt", "gone/only.txt", "src/deep/b.ts", "tool.sh", "never/was.txt"];
    const changes = new Map(paths.map((p) => [latin1(p), changeOf(root, p)]));
    const tree = await editTree(root, git(root, "rev-parse", "HEAD^{tree}"), changes);
    expect(tree).toBe(gitTree(root, paths));
    git(root, "fsck", "--strict", "--no-dangling");
  });

  it("gives back the same tree when nothing changes, and the empty tree when everything goes", async () => {
    const root = makeRepo({ "a.txt": "a\n", "d/b.txt": "b\n" });
    const head = git(root, "rev-parse", "HEAD^{tree}");
    expect(await editTree(root, head, new Map([[latin1("a.txt"), changeOf(root, "a.txt")]]))).toBe(head);
    const empty = await editTree(root, head, new Map([["a.txt", null], ["d/b.txt", null], ["README.md", null]]));
    expect(empty).toBe(git(root, "hash-object", "-t", "tree", "/dev/null"));
  });

  it("does not decide what git refuses or reads otherwise: a file where a folder is, a folder where a file is, a name only case tells apart", async () => {
    const root = makeRepo({ "a.txt": "a\n", "d/b.txt": "b\n", "README.md": "r\n" });
    const head = git(root, "rev-parse", "HEAD^{tree}");
    const blob = git(root, "rev-parse", "HEAD:a.txt");
    expect(await editTree(root, head, new Map([["d", { mode: "100644", id: blob }]]))).toBeUndefined();
    expect(await editTree(root, head, new Map([["a.txt/x", { mode: "100644", id: blob }]]))).toBeUndefined();
    expect(await editTree(root, head, new Map([["readme.md", { mode: "100644", id: blob }]]))).toBeUndefined();
    expect(await editTree(root, head, new Map([["x", { mode: "100644", id: blob }], ["x/y", { mode: "100644", id: blob }]]))).toBeUndefined();
  });
});
