import { afterEach, describe, expect, it, vi } from "vitest";
import { execFileSync } from "node:child_process";
import { makeCommit, writeTreeLater } from "../../src/git/object-writer.js";
import { SERVERS } from "../../src/git/run-git.js";
import { knownHistory } from "../../src/git/known-history.js";
import { git, makeRepo, removeRepos } from "./make-repo.js";

afterEach(() => {
  vi.unstubAllEnvs();
  removeRepos();
});

const WHO = { GIT_AUTHOR_NAME: "Ann Author", GIT_AUTHOR_EMAIL: "ann@example.com", GIT_COMMITTER_NAME: "Cy Committer", GIT_COMMITTER_EMAIL: "cy@example.com" };

describe("makeCommit (issue 32: commits by a long-lived git, not a commit-tree each)", () => {
  it("writes the commit commit-tree would: tree, parents in order, author, committer, the message byte for byte", async () => {
    const root = makeRepo();
    const head = git(root, "rev-parse", "HEAD");
    const tree = git(root, "rev-parse", "HEAD^{tree}");
    const message = "ws(a): one\n\n  indented body, kept\n\nWs-Id: x\n";
    const first = await makeCommit(root, tree, [head], message, WHO);
    const second = await makeCommit(root, tree, [head, first], message, WHO);
    for (const sha of [first, second]) expect(git(root, "cat-file", "-t", sha)).toBe("commit");
    expect(git(root, "log", "-1", "--format=%T|%P|%an <%ae>|%cn <%ce>", second)).toBe(`${tree}|${head} ${first}|Ann Author <ann@example.com>|Cy Committer <cy@example.com>`);
    expect(git(root, "cat-file", "commit", second).split("\n\n").slice(1).join("\n\n")).toBe(message.replace(/\n$/, ""));
    // The date is now, in git's own form: what `git log` reads back as a date near the clock's.
    const seconds = Number(git(root, "log", "-1", "--format=%at", first));
    expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(120);
    git(root, "fsck", "--strict", "--no-dangling");
  });

  it("leaves to commit-tree what it does not write itself: a date from the environment, an identity git would clean up", async () => {
    const root = makeRepo();
    const head = git(root, "rev-parse", "HEAD");
    const tree = git(root, "rev-parse", "HEAD^{tree}");
    const dated = await makeCommit(root, tree, [head], "dated\n", { ...WHO, GIT_AUTHOR_DATE: "2001-02-03T04:05:06Z", GIT_COMMITTER_DATE: "2001-02-03T04:05:06Z" });
    expect(git(root, "log", "-1", "--format=%at %ct", dated)).toBe("981173106 981173106");
    const crud = await makeCommit(root, tree, [head], "crud\n", { ...WHO, GIT_AUTHOR_NAME: " Ann. " });
    expect(git(root, "log", "-1", "--format=%an", crud)).toBe("Ann");
  });
});

describe("writeTreeLater (issue 32: trees named in process, written without waiting for each)", () => {
  it("names a tree as git does, and the commit made of it returns once both are written, even when the writer ends midway", async () => {
    const root = makeRepo({ "a.txt": "a\n", "d/b.txt": "b\n" });
    const head = git(root, "rev-parse", "HEAD");
    const bytes = (rev: string) => execFileSync("git", ["cat-file", "tree", rev], { cwd: root });
    const first = writeTreeLater(root, bytes("HEAD:d"), 40);
    expect(first).toBe(git(root, "rev-parse", "HEAD:d"));
    // A tree git has not seen: HEAD's root with one more entry.
    const extra = Buffer.concat([bytes("HEAD^{tree}"), Buffer.from("100644 z.txt\0", "latin1"), Buffer.from(git(root, "rev-parse", "HEAD:a.txt"), "hex")]);
    // The long-lived gits end (killed) while the trees are on their way: each is written again by a git of its own.
    for (const pid of SERVERS) process.kill(pid, "SIGKILL");
    const tree = writeTreeLater(root, extra, 40);
    const commit = await makeCommit(root, tree, [head], "extra\n", WHO);
    expect(git(root, "cat-file", "-t", tree)).toBe("tree");
    expect(git(root, "rev-parse", `${commit}^{tree}`)).toBe(tree);
    expect(git(root, "ls-tree", "--name-only", commit).split("\n")).toEqual(["a.txt", "d", "z.txt"]);
    git(root, "fsck", "--strict", "--no-dangling");
  });
});

describe("knownHistory", () => {
  it("answers ancestry from the commits ws made, and leaves to git what it cannot know", () => {
    // base (not ours) <- a <- b, base <- c; m joins b and c.
    knownHistory.add("a1", ["base0"], "t");
    knownHistory.add("b1", ["a1"], "t");
    knownHistory.add("c1", ["base0"], "t");
    knownHistory.add("m1", ["b1", "c1"], "t");
    expect(knownHistory.isAncestor("a1", "m1")).toBe(true);
    expect(knownHistory.isAncestor("base0", "b1")).toBe(true);
    // Ours, not reached: certain (a commit made here is in no older commit's history).
    expect(knownHistory.isAncestor("c1", "b1")).toBe(false);
    expect(knownHistory.isAncestor("m1", "base0")).toBe(false);
    // Not ours and not reached: only git knows (it may be behind base0).
    expect(knownHistory.isAncestor("older", "b1")).toBeUndefined();
  });

  it("names the merge base of two of its commits only when one best common ancestor is certain", () => {
    // base <- p <- x, p <- y, j = x + y; p <- z. Another root r <- q.
    knownHistory.add("p2", ["base2"], "t");
    knownHistory.add("x2", ["p2"], "t");
    knownHistory.add("y2", ["p2"], "t");
    knownHistory.add("j2", ["x2", "y2"], "t");
    knownHistory.add("z2", ["p2"], "t");
    knownHistory.add("q2", ["r2"], "t");
    expect(knownHistory.mergeBase("x2", "y2")).toBe("p2");
    expect(knownHistory.mergeBase("j2", "z2")).toBe("p2");
    expect(knownHistory.mergeBase("j2", "x2")).toBe("x2");
    // Two commits ws did not make behind them: git knows how they relate, ws does not.
    expect(knownHistory.mergeBase("x2", "q2")).toBeUndefined();
    // Criss-cross: two best common ancestors, left to git.
    knownHistory.add("m2", ["x2", "y2"], "t");
    knownHistory.add("n2", ["y2", "x2"], "t");
    expect(knownHistory.mergeBase("m2", "n2")).toBeUndefined();
  });
});
