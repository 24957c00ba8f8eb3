import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { changedBetween, DELETED, HEAD_KEY, snapshot } from "../../src/git/changes.js";
import { git, makeRepo, removeRepos, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

const FILES = {
  "keep.txt": "keep\n",
  "edit.txt": "old\n",
  "gone.txt": "bye\n",
  "moved.txt": "moving\n",
  "staged-move.txt": "moving too\n",
  "with space/a file.txt": "space\n",
  "ünïcødé/日本.txt": "unicode\n",
  "src/tool.sh": "echo hi\n",
};

describe("snapshot / changedBetween", () => {
  it("reports modified, new, deleted and renamed files, names with spaces and unicode, and mode changes", async () => {
    const root = makeRepo(FILES);
    const before = await snapshot(root);
    expect(before).toEqual(new Map([[HEAD_KEY, git(root, "rev-parse", "HEAD")]]));

    writeFiles(root, {
      "edit.txt": "new\n",
      "new dir/brand new.txt": "n\n",
      "with space/a file.txt": "changed\n",
      "ünïcødé/日本.txt": "変更\n",
      "tab\tand\nnewline.txt": "odd name\n",
    });
    fs.rmSync(path.join(root, "gone.txt"));
    fs.renameSync(path.join(root, "moved.txt"), path.join(root, "moved-to.txt"));
    git(root, "mv", "staged-move.txt", "staged-moved.txt");
    fs.chmodSync(path.join(root, "src/tool.sh"), 0o755);

    const after = await snapshot(root);
    expect(changedBetween(before, after)).toEqual(
      [
        "edit.txt",
        "gone.txt",
        "moved-to.txt",
        "moved.txt",
        "new dir/brand new.txt",
        "src/tool.sh",
        "staged-move.txt",
        "staged-moved.txt",
        "tab\tand\nnewline.txt",
        "with space/a file.txt",
        "ünïcødé/日本.txt",
      ].sort(),
    );
    expect(after.get("gone.txt")).toBe(DELETED);
    expect(after.get("edit.txt")).toBe(git(root, "hash-object", "edit.txt"));
    // The content is in the object store, so it can be restored later.
    expect(git(root, "cat-file", "blob", after.get("ünïcødé/日本.txt") ?? "")).toBe("変更");
  });

  it("leaves out files that were already dirty and stayed as they were", async () => {
    const root = makeRepo(FILES);
    writeFiles(root, { "edit.txt": "user's edit\n", "scratch.txt": "user's file\n" });
    const before = await snapshot(root);
    writeFiles(root, { "keep.txt": "step edit\n" });
    expect(changedBetween(before, await snapshot(root))).toEqual(["keep.txt"]);
  });

  it("reports a dirty file the attempt changed again, or put back to HEAD", async () => {
    const root = makeRepo(FILES);
    writeFiles(root, { "edit.txt": "dirty\n", "keep.txt": "dirty\n" });
    const before = await snapshot(root);
    writeFiles(root, { "edit.txt": "dirtier\n", "keep.txt": "keep\n" });
    expect(changedBetween(before, await snapshot(root))).toEqual(["edit.txt", "keep.txt"]);
  });

  it("ignores ws's own state folder", async () => {
    const root = makeRepo(FILES);
    const before = await snapshot(root);
    writeFiles(root, { ".worktrees/ws-x/steps/s1/attempt-1.log": "log\n", ".worktreesx": "not ours\n" });
    expect(changedBetween(before, await snapshot(root))).toEqual([".worktreesx"]);
  });

  it("names files relative to a cwd below the repository root", async () => {
    const root = makeRepo(FILES);
    const cwd = path.join(root, "src");
    const before = await snapshot(cwd);
    writeFiles(root, { "src/tool.sh": "echo changed\n", "keep.txt": "outside\n" });
    expect(changedBetween(before, await snapshot(cwd))).toEqual(["../keep.txt", "tool.sh"]);
  });

  it("hashes the files of a cwd below the root, not the root's files of the same names", async () => {
    // The long-lived hash-object reads the paths it is fed from the top of the work tree.
    const root = makeRepo({ ...FILES, "tool.sh": "top\n" });
    const cwd = path.join(root, "src");
    writeFiles(root, { "src/tool.sh": "echo changed\n" });
    expect((await snapshot(cwd)).get("tool.sh")).toBe(git(root, "hash-object", "src/tool.sh"));
    writeFiles(root, { "keep.txt": "outside\n" });
    const after = await snapshot(cwd);
    expect(after.get("tool.sh")).toBe(git(root, "hash-object", "src/tool.sh"));
    expect(after.get("../keep.txt")).toBe(git(root, "hash-object", "keep.txt"));
  });
});
