import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { commitFiles } from "../../src/git/commit.js";
import { git, makeEmptyRepo, makeRepo, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(() => {
  vi.unstubAllEnvs();
  removeRepos();
});

const FILES = { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "bye.txt": "bye\n" };

function changedIn(root: string, sha: string): string[] {
  return git(root, "diff-tree", "--no-commit-id", "--name-status", "-r", "-z", sha).split("\0").filter(Boolean);
}

describe("commitFiles", () => {
  it("commits exactly the given files (new, modified, deleted) with the message and the configured author", async () => {
    const root = makeRepo(FILES);
    const parent = git(root, "rev-parse", "HEAD");
    writeFiles(root, { "a.txt": "a2\n", "b.txt": "b2\n", "new file.txt": "n\n", "other new.txt": "o\n" });
    fs.rmSync(path.join(root, "bye.txt"));
    writeFiles(root, { "c.txt": "c2\n" });
    git(root, "add", "c.txt"); // staged by someone else: must stay out of the commit

    const sha = await commitFiles({ cwd: root, files: ["a.txt", "bye.txt", "new file.txt"], message: "ws(step-01): Create the thing" });
    expect(sha).toBe(git(root, "rev-parse", "HEAD"));
    expect(git(root, "rev-parse", "HEAD~1")).toBe(parent);
    expect(git(root, "rev-parse", "--abbrev-ref", "HEAD")).toBe("main");
    expect(changedIn(root, sha ?? "")).toEqual(["M", "a.txt", "D", "bye.txt", "A", "new file.txt"]);
    expect(git(root, "log", "-1", "--format=%B")).toBe("ws(step-01): Create the thing\n");
    expect(git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe("Test Author <author@example.com>|Test Author <author@example.com>");
    // Everything else is exactly as it was: unstaged, staged, untracked.
    expect(status(root)).toEqual([" M b.txt", `?? "other new.txt"`, "M  c.txt"]);
  });

  it("returns undefined when the files hold nothing new", async () => {
    const root = makeRepo(FILES);
    const head = git(root, "rev-parse", "HEAD");
    expect(await commitFiles({ cwd: root, files: ["a.txt"], message: "ws(s): nothing" })).toBeUndefined();
    expect(await commitFiles({ cwd: root, files: [], message: "ws(s): nothing" })).toBeUndefined();
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
  });

  it("lets two steps that finish together both commit in one tree", async () => {
    const root = makeRepo(FILES);
    writeFiles(root, { "a.txt": "from step 1\n", "b.txt": "from step 2\n" });
    const [first, second] = await Promise.all([
      commitFiles({ cwd: root, files: ["a.txt"], message: "ws(s1): one" }),
      commitFiles({ cwd: root, files: ["b.txt"], message: "ws(s2): two" }),
    ]);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(git(root, "rev-parse", "HEAD")).toBe(second);
    expect(git(root, "rev-parse", "HEAD~1")).toBe(first);
    expect(git(root, "log", "--format=%s", "-2")).toBe("ws(s2): two\nws(s1): one");
    expect(status(root)).toEqual([]);
  });

  it("commits as ws <ws@localhost> when no identity is configured, and makes a root commit in an empty repo", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ws-home-"));
    try {
      vi.stubEnv("HOME", home);
      vi.stubEnv("XDG_CONFIG_HOME", home);
      vi.stubEnv("GIT_CONFIG_NOSYSTEM", "1");
      for (const name of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"]) vi.stubEnv(name, undefined);
      const root = makeEmptyRepo();
      git(root, "config", "--unset", "user.name");
      git(root, "config", "--unset", "user.email");
      writeFiles(root, { "first.txt": "1\n" });
      const sha = await commitFiles({ cwd: root, files: ["first.txt"], message: "ws(s): first" });
      expect(sha).toBe(git(root, "rev-parse", "HEAD"));
      expect(git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%P")).toBe("ws <ws@localhost>|ws <ws@localhost>|");
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
