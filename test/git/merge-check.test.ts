import { afterEach, describe, expect, it } from "vitest";
import { checkMerge, describeMerge } from "../../src/git/merge-check.js";
import { git, makeRepo, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

/** A branch `work` one commit ahead of main with `files`. */
function branchWith(root: string, files: Record<string, string>): void {
  git(root, "checkout", "-q", "-b", "work");
  writeFiles(root, files);
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "work");
  git(root, "checkout", "-q", "main");
}

describe("checkMerge", () => {
  it("is clean when git merge would work, and changes nothing while checking", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    branchWith(root, { "b.txt": "b\n" });
    writeFiles(root, { "unrelated.txt": "mine\n" });
    const head = git(root, "rev-parse", "HEAD");
    const before = status(root);
    expect(await checkMerge(root, "work")).toEqual({ kind: "clean" });
    expect(describeMerge("work", { kind: "clean" })).toEqual(["work is on branch work; merge it with: git merge work"]);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(status(root)).toEqual(before);
  });

  it("names untracked files and uncommitted changes the merge would overwrite", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    branchWith(root, { "a.txt": "from work\n", "new.txt": "from work\n" });
    writeFiles(root, { "a.txt": "my edit\n", "new.txt": "my own new file\n" });
    const check = await checkMerge(root, "work");
    expect(check).toEqual({ kind: "blocked", conflicts: [], localChanges: ["a.txt"], untracked: ["new.txt"] });
    // And git agrees: the merge refuses.
    expect(() => git(root, "merge", "-q", "work")).toThrow();
    const lines = describeMerge("work", check).join("\n");
    expect(lines).toContain("your uncommitted changes to a.txt would be overwritten: commit or stash them first");
    expect(lines).toContain("untracked new.txt would be overwritten");
  });

  it("names conflicting files, and says when there is nothing to merge", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    branchWith(root, { "a.txt": "from work\n" });
    writeFiles(root, { "a.txt": "from main\n" });
    git(root, "commit", "-q", "-am", "main side");
    expect(await checkMerge(root, "work")).toEqual({ kind: "blocked", conflicts: ["a.txt"], localChanges: [], untracked: [] });
    git(root, "branch", "-q", "behind", "HEAD~1");
    expect(await checkMerge(root, "behind")).toEqual({ kind: "up-to-date" });
  });
});
