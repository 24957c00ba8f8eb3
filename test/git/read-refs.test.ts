import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gitDirsOf, readHead, readRef } from "../../src/git/read-refs.js";
import { removeRepos, git, makeRepo } from "./make-repo.js";

/** What ws reads from `.git` without git must be what git says, in each layout git writes. */

afterAll(removeRepos);

function dirs(cwd: string) {
  const found = gitDirsOf(cwd, {});
  if (found === undefined) throw new Error(`no git folders found from ${cwd}`);
  return found;
}

describe("reading refs from .git", () => {
  it("reads HEAD and a branch, loose and packed, from the top and from a sub-folder", () => {
    const repo = makeRepo();
    git(repo, "branch", "ws/x");
    fs.mkdirSync(path.join(repo, "sub"));
    for (const pack of [false, true]) {
      if (pack) git(repo, "pack-refs", "--all");
      const d = dirs(path.join(repo, "sub"));
      expect(d.top).toBe(repo);
      expect(readHead(d)).toBe(git(repo, "rev-parse", "HEAD"));
      expect(readRef(d, "refs/heads/ws/x")).toBe(git(repo, "rev-parse", "ws/x"));
      expect(readRef(d, "refs/heads/missing")).toBeUndefined();
    }
  });

  it("reads a linked worktree's own HEAD and the shared branches; a detached HEAD as its sha", () => {
    const repo = makeRepo();
    const first = git(repo, "rev-parse", "HEAD");
    git(repo, "commit", "-q", "--allow-empty", "-m", "second");
    const linked = `${repo}-linked`;
    git(repo, "worktree", "add", "-q", "--detach", linked, first);
    try {
      const d = dirs(linked);
      expect(d.top).toBe(linked);
      expect(readHead(d)).toBe(first);
      expect(readRef(d, "refs/heads/main")).toBe(git(repo, "rev-parse", "HEAD"));
    } finally {
      git(repo, "worktree", "remove", "--force", linked);
    }
  });

  it("leaves to git what it cannot read: GIT_DIR set, no repository", () => {
    const repo = makeRepo();
    expect(gitDirsOf(repo, { GIT_DIR: path.join(repo, ".git") })).toBeUndefined();
    expect(gitDirsOf(path.parse(repo).root, {})).toBeUndefined();
  });
});
