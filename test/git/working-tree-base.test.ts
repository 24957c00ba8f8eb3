import fs from "node:fs";
import fc from "fast-check";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NoCommitsError, resolveBase } from "../../src/git/working-tree-base.js";
import { ensureExcluded } from "../../src/git/worktree.js";
import { UserError } from "../../src/errors.js";
import { git, makeEmptyRepo, makeRepo, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

function filesOf(root: string, commit: string): string[] {
  return git(root, "ls-tree", "-r", "--name-only", commit).split("\n").filter(Boolean).sort();
}

describe("resolveBase", () => {
  it("is HEAD itself when nothing differs from it", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    writeFiles(root, { "ignored.log": "x\n", ".gitignore": "*.log\n" });
    git(root, "add", ".gitignore");
    git(root, "commit", "-q", "-m", "ignore logs");
    const base = await resolveBase(root, "w");
    expect(base).toEqual({ commit: git(root, "rev-parse", "HEAD"), source: "working tree", uncommitted: [] });
  });

  it("takes tracked changes, staged files, deletions and untracked files git does not ignore; leaves the user's index, status and stash alone", async () => {
    const root = makeRepo({ "a.txt": "a\n", "gone.txt": "g\n", ".gitignore": "*.log\nbuild/\n" });
    await ensureExcluded(root);
    writeFiles(root, { "a.txt": "edited\n", "staged.txt": "s\n", "new/untracked.txt": "u\n", "debug.log": "ignored\n", "build/out.js": "ignored\n", ".worktrees/w/state.json": "{}\n" });
    fs.rmSync(path.join(root, "gone.txt"));
    git(root, "add", "staged.txt");
    const statusBefore = status(root);
    const indexBefore = git(root, "ls-files", "-s", "--debug");
    const head = git(root, "rev-parse", "HEAD");

    const base = await resolveBase(root, "w");

    expect(base.source).toBe("working tree");
    expect(base.uncommitted.sort()).toEqual(["a.txt", "gone.txt", "new/untracked.txt", "staged.txt"]);
    expect(git(root, "rev-parse", `${base.commit}^`)).toBe(head);
    expect(filesOf(root, base.commit)).toEqual([".gitignore", "a.txt", "new/untracked.txt", "staged.txt"]);
    // A merge puts this commit into the project's history: its message names no local path.
    const message = git(root, "log", "-1", "--format=%B", base.commit);
    expect(message).toMatch(/^ws: uncommitted work the run started from \(4 uncommitted files\)\n/);
    expect(message).not.toContain(root);
    expect(git(root, "show", `${base.commit}:a.txt`)).toBe("edited");
    expect(git(root, "log", "-1", "--format=%B", base.commit)).toContain("Ws-Workstream: w");
    expect(status(root)).toEqual(statusBefore);
    expect(git(root, "ls-files", "-s", "--debug")).toBe(indexBefore);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(git(root, "stash", "list")).toBe("");
  });

  it("with a ref (--base HEAD) leaves uncommitted changes out", async () => {
    const root = makeRepo({ "a.txt": "a\n" });
    writeFiles(root, { "a.txt": "edited\n" });
    const base = await resolveBase(root, "w", "HEAD");
    expect(base).toEqual({ commit: git(root, "rev-parse", "HEAD"), source: "HEAD", uncommitted: [] });
  });

  it("says which ref is unknown and how to fix it", async () => {
    const root = makeRepo();
    const error = await resolveBase(root, "w", "no-such-branch").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`--base no-such-branch: no such commit in ${root}`);
    expect((error as UserError).options.fix).toMatch(/--base HEAD/);
  });

  it("is a NoCommitsError (the one case that may run in place) in an empty repository", async () => {
    const root = makeEmptyRepo();
    writeFiles(root, { "a.txt": "a\n" });
    await expect(resolveBase(root, "w")).rejects.toBeInstanceOf(NoCommitsError);
  });
});

/** One tracked file, and what happens to it after the commit. */
interface RacyFile {
  chars: string[];
  /** Where the edit changes a character (same size, different content), or none. */
  flip: number | undefined;
  chmod: boolean;
}

const racyFileArb: fc.Arbitrary<RacyFile> = fc
  .record({ chars: fc.array(fc.constantFrom("a", "b", "c", "\n"), { minLength: 1, maxLength: 12 }), flip: fc.option(fc.nat(), { nil: undefined }), chmod: fc.boolean() })
  .map(({ chars, flip, chmod }) => ({ chars, flip: flip === undefined ? undefined : flip % chars.length, chmod }));

const editedText = (f: RacyFile): string => f.chars.map((c, i) => (i === f.flip ? (c === "a" ? "b" : "a") : c)).join("");

/** A second long past (so the commit's own index write finds nothing racy), and times within it. */
const SECOND = 1_600_000_000;
const at = (ms: number): number => SECOND + ms / 1000;

describe("resolveBase on edits made in the second the index was written", () => {
  // The stat of an entry, of the edited file and of the user's index all fall in one second, the
  // case git guards with its racy-entry check: the stat matches (same size, same whole-second
  // mtime), and only the index's own mtime tells git to look at the content. ctime is real time
  // here, so the repository ignores it (core.trustctime=false), as git compares whole seconds of it.
  it("sees every change, as git status does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(racyFileArb, { minLength: 1, maxLength: 4 }),
        fc.record({ added: fc.integer({ min: 0, max: 999 }), edited: fc.integer({ min: 0, max: 999 }), index: fc.integer({ min: 0, max: 999 }) }),
        async (files, ms) => {
          const root = makeEmptyRepo();
          git(root, "config", "core.trustctime", "false");
          const names = files.map((_, i) => `src/f${i}.txt`);
          files.forEach((f, i) => {
            writeFiles(root, { [names[i]!]: f.chars.join("") });
            fs.utimesSync(path.join(root, names[i]!), at(ms.added), at(ms.added));
          });
          git(root, "add", "-A");
          git(root, "commit", "-q", "-m", "initial");
          const head = git(root, "rev-parse", "HEAD");
          files.forEach((f, i) => {
            const file = path.join(root, names[i]!);
            if (f.flip !== undefined) fs.writeFileSync(file, editedText(f));
            if (f.chmod) fs.chmodSync(file, 0o755);
            fs.utimesSync(file, at(ms.edited), at(ms.edited));
          });
          fs.utimesSync(path.join(root, ".git", "index"), at(ms.index), at(ms.index));
          const changed = names.filter((_, i) => files[i]!.flip !== undefined || files[i]!.chmod);

          const base = await resolveBase(root, "w");

          expect(base.uncommitted.sort()).toEqual(changed);
          if (changed.length === 0) expect(base.commit).toBe(head);
          files.forEach((f, i) => {
            expect(git(root, "cat-file", "blob", `${base.commit}:${names[i]}`)).toBe(editedText(f).replace(/\n$/, ""));
            expect(git(root, "ls-tree", base.commit, names[i]!).split(" ")[0]).toBe(f.chmod ? "100755" : "100644");
          });
          // git itself, reading the user's index, agrees.
          expect(git(root, "diff", "--name-only").split("\n").filter(Boolean).sort()).toEqual(changed);
          removeRepos();
        },
      ),
      { numRuns: 15 },
    );
  });
});
