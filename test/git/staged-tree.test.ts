import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commitFiles } from "../../src/git/commit.js";
import { stagedTree, type StagingLane } from "../../src/git/staged-tree.js";
import { git, makeRepo, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

/** The repository standing in for a lane: its own top, git dir and objects. */
function laneOf(root: string, prefix = ""): StagingLane {
  return { top: root, prefix, gitDir: path.join(root, ".git"), repo: root, env: {} };
}

/** What `update-index --add --remove` of `files` (relative to `cwd`) over HEAD's tree and `write-tree` make. */
function gitTree(root: string, cwd: string, files: string[]): string {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(root, ".git", "scratch-index") };
  const run = (args: string[], input?: string) => execFileSync("git", args, { cwd, env, input, encoding: "utf8" }).trim();
  run(["read-tree", "HEAD"]);
  run(["update-index", "--add", "--remove", "-z", "--stdin"], files.map((file) => `${file}\0`).join(""));
  const tree = run(["write-tree"]);
  fs.rmSync(env.GIT_INDEX_FILE, { force: true });
  return tree;
}

const head = (root: string) => git(root, "rev-parse", "HEAD^{tree}");

describe("a step's commit tree made in process (issue 32)", () => {
  it("is the tree update-index and write-tree make: changed, new, deleted and executable files, from a project below the top", async () => {
    const root = makeRepo({ "app/a.txt": "a\n", "app/gone.txt": "g\n", "app/lib/x.ts": "x\n", "shared.txt": "s\n", "app/run.sh": "r\n" });
    writeFiles(root, { "app/a.txt": "a2\n", "app/new/deep/n.txt": "n\n", "shared.txt": "s2\n", "app/ünï 日本.txt": "u\n" });
    fs.rmSync(path.join(root, "app/gone.txt"));
    fs.chmodSync(path.join(root, "app/run.sh"), 0o755);
    const files = ["a.txt", "new/deep/n.txt", "../shared.txt", "gone.txt", "run.sh", "ünï 日本.txt"];
    const tree = await stagedTree(laneOf(root, "app/"), head(root), files);
    expect(tree).toBe(gitTree(root, path.join(root, "app"), files));
  });

  it("stores each file as update-index would: line endings converted by core.autocrlf and by the attributes in the tree", async () => {
    const root = makeRepo({ ".gitattributes": "*.md text eol=lf\n", "notes.md": "n\n" });
    git(root, "config", "core.autocrlf", "input");
    writeFiles(root, { "notes.md": "one\r\ntwo\r\n", "plain.txt": "x\r\ny\r\n" });
    const tree = await stagedTree(laneOf(root), head(root), ["notes.md", "plain.txt"]);
    expect(tree).toBe(gitTree(root, root, ["notes.md", "plain.txt"]));
    expect(git(root, "cat-file", "blob", `${tree}:plain.txt`)).toBe("x\ny");
  });

  it("leaves to update-index what it does not decide: a symlink, a changed .gitattributes, a path through a symlinked folder, a config that does not trust the executable bit", async () => {
    const root = makeRepo({ "a.txt": "a\n", "real/b.txt": "b\n" });
    fs.symlinkSync("a.txt", path.join(root, "link"));
    expect(await stagedTree(laneOf(root), head(root), ["link"])).toBeUndefined();
    writeFiles(root, { ".gitattributes": "* -text\n" });
    expect(await stagedTree(laneOf(root), head(root), [".gitattributes"])).toBeUndefined();
    fs.symlinkSync("real", path.join(root, "via"));
    expect(await stagedTree(laneOf(root), head(root), ["via/b.txt"])).toBeUndefined();
    writeFiles(root, { "a.txt": "a2\n" });
    expect(await stagedTree(laneOf(root), head(root), ["a.txt"])).toBeDefined();
    git(root, "config", "core.filemode", "false");
    expect(await stagedTree(laneOf(root), head(root), ["a.txt"])).toBeUndefined();
  });
});

describe("commitFiles on a lane", () => {
  it("commits the tree made in process and brings the index up afterwards, off the commit's way", async () => {
    const root = makeRepo({ "a.txt": "a\n", "d/b.txt": "b\n" });
    const parent = git(root, "rev-parse", "HEAD");
    writeFiles(root, { "a.txt": "a2\n", "d/c.txt": "c\n" });
    const expected = gitTree(root, root, ["a.txt", "d/c.txt"]);
    let update: Promise<boolean> | undefined;
    const lane = { head: parent, top: root, headIndex: undefined, gitDir: path.join(root, ".git"), prefix: "", repo: root, indexLater: (pending: Promise<boolean>) => (update = pending) };
    const sha = await commitFiles({ cwd: root, files: ["a.txt", "d/c.txt"], message: "ws(s): lane", lane, identityFrom: root });
    expect(git(root, "rev-parse", "HEAD")).toBe(sha);
    expect(git(root, "rev-parse", `${sha}^{tree}`)).toBe(expected);
    expect(git(root, "rev-parse", `${sha}^`)).toBe(parent);
    expect(update).toBeDefined();
    expect(await update).toBe(true);
    expect(status(root)).toEqual([]);
  });
});
