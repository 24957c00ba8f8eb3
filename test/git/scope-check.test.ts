import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { snapshot } from "../../src/git/changes.js";
import { enforceScope } from "../../src/git/scope-check.js";
import { exists, git, makeRepo, read, removeRepos, status, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

const FILES = {
  "src/mine.ts": "export const mine = 1;\n",
  "src/other.ts": "export const other = 1;\n",
  "docs/notes.md": "notes\n",
  "docs/doomed.md": "doomed\n",
  "assets/logo.bin": "\x00\x01\x02binary\x00",
};

async function attempt(root: string, edit: () => void, fileScope = ["src/mine.ts"], othersScopes: string[][] = []) {
  const before = await snapshot(root);
  edit();
  const after = await snapshot(root);
  const patchFile = path.join(root, ".worktrees/ws-x/steps/s1/attempt-1.out-of-scope.patch");
  const result = await enforceScope({ cwd: root, before, after, fileScope, othersScopes, patchFile });
  return { result, patchFile };
}

describe("enforceScope", () => {
  it("names exactly the out-of-scope files, keeps them in a patch that applies back, and reverts them", async () => {
    const root = makeRepo(FILES);
    const { result, patchFile } = await attempt(root, () =>
      writeFiles(root, {
        "src/mine.ts": "export const mine = 2;\n",
        "src/other.ts": "export const other = 2;\n",
        "new/dir/stray.ts": "stray\n",
      }),
    );
    expect(result).toEqual({ violations: ["new/dir/stray.ts", "src/other.ts"], patchFile });
    // Reverted: the out-of-scope edit is gone, the new file and the folder made for it too.
    expect(read(root, "src/other.ts")).toBe(FILES["src/other.ts"]);
    expect(exists(root, "new")).toBe(false);
    // The in-scope edit stays.
    expect(read(root, "src/mine.ts")).toBe("export const mine = 2;\n");
    expect(status(root)).toEqual([" M src/mine.ts", "?? .worktrees/ws-x/steps/s1/attempt-1.out-of-scope.patch"]);

    // Nothing is lost: the patch brings both changes back.
    git(root, "apply", "--check", patchFile);
    git(root, "apply", patchFile);
    expect(read(root, "src/other.ts")).toBe("export const other = 2;\n");
    expect(read(root, "new/dir/stray.ts")).toBe("stray\n");
  });

  it("restores a file that was dirty before the attempt to its dirty content, not HEAD's", async () => {
    const root = makeRepo(FILES);
    writeFiles(root, { "docs/notes.md": "user's unfinished notes\n", "scratch.txt": "user's scratch\n" });
    const { result, patchFile } = await attempt(root, () =>
      writeFiles(root, { "docs/notes.md": "overwritten by the step\n", "scratch.txt": "overwritten too\n" }),
    );
    expect(result.violations).toEqual(["docs/notes.md", "scratch.txt"]);
    expect(read(root, "docs/notes.md")).toBe("user's unfinished notes\n");
    expect(read(root, "scratch.txt")).toBe("user's scratch\n");
    git(root, "apply", patchFile);
    expect(read(root, "docs/notes.md")).toBe("overwritten by the step\n");
    expect(read(root, "scratch.txt")).toBe("overwritten too\n");
  });

  it("brings back deleted and staged files, binary content and the index", async () => {
    const root = makeRepo(FILES);
    const indexBefore = git(root, "ls-files", "-s");
    const { result, patchFile } = await attempt(root, () => {
      fs.rmSync(path.join(root, "docs/doomed.md"));
      writeFiles(root, { "assets/logo.bin": "\x00\xffchanged\x00", "staged.txt": "staged by the agent\n" });
      git(root, "add", "staged.txt", "assets/logo.bin");
    });
    expect(result.violations).toEqual(["assets/logo.bin", "docs/doomed.md", "staged.txt"]);
    expect(read(root, "docs/doomed.md")).toBe("doomed\n");
    expect(read(root, "assets/logo.bin")).toBe(FILES["assets/logo.bin"]);
    expect(exists(root, "staged.txt")).toBe(false);
    expect(git(root, "ls-files", "-s")).toBe(indexBefore);
    git(root, "apply", patchFile);
    expect(exists(root, "docs/doomed.md")).toBe(false);
    expect(fs.readFileSync(path.join(root, "assets/logo.bin"))).toEqual(Buffer.from("\x00\xffchanged\x00", "utf8"));
  });

  it("doesn't blame a step for files in the scope of a step running beside it", async () => {
    const root = makeRepo(FILES);
    const { result, patchFile } = await attempt(
      root,
      () => writeFiles(root, { "src/other.ts": "edited by the other step\n", "docs/notes.md": "mine? no\n" }),
      ["src/mine.ts"],
      [["src/other.ts"], ["assets/**"]],
    );
    expect(result.violations).toEqual(["docs/notes.md"]);
    expect(read(root, "src/other.ts")).toBe("edited by the other step\n");
    expect(read(root, "docs/notes.md")).toBe("notes\n");
    expect(read(root, path.relative(root, patchFile))).not.toContain("src/other.ts");
  });

  it("writes no patch and touches nothing when every change is in scope", async () => {
    const root = makeRepo(FILES);
    const { result, patchFile } = await attempt(root, () => writeFiles(root, { "src/new.ts": "new\n", "src/mine.ts": "x\n" }), ["src/**"]);
    expect(result).toEqual({ violations: [] });
    expect(fs.existsSync(patchFile)).toBe(false);
    expect(read(root, "src/new.ts")).toBe("new\n");
  });
});

describe("enforceScope below the repository root", () => {
  it("matches scopes relative to cwd and reverts files above it too", async () => {
    const root = makeRepo({ ...FILES, "app/src/a.ts": "a\n" });
    const cwd = path.join(root, "app");
    const before = await snapshot(cwd);
    writeFiles(root, { "app/src/a.ts": "a2\n", "app/stray.ts": "s\n", "docs/notes.md": "outside the project\n" });
    const after = await snapshot(cwd);
    const patchFile = path.join(cwd, ".worktrees/ws-x/out.patch");
    const result = await enforceScope({ cwd, before, after, fileScope: ["src/**"], othersScopes: [], patchFile });
    expect(result.violations).toEqual(["../docs/notes.md", "stray.ts"]);
    expect(read(root, "docs/notes.md")).toBe("notes\n");
    expect(exists(root, "app/stray.ts")).toBe(false);
    expect(read(root, "app/src/a.ts")).toBe("a2\n");
    // The patch names files from the repository root.
    git(root, "apply", patchFile);
    expect(read(root, "docs/notes.md")).toBe("outside the project\n");
    expect(read(root, "app/stray.ts")).toBe("s\n");
  });
});

describe("enforceScope beside a step that commits", () => {
  it("doesn't revert files another step committed during the attempt", async () => {
    const root = makeRepo(FILES);
    writeFiles(root, { "docs/notes.md": "step B's work, tests still running\n" });
    const { result } = await attempt(root, () => {
      writeFiles(root, { "src/mine.ts": "A's work\n", "docs/notes.md": "step B's final work\n" });
      git(root, "commit", "-q", "-m", "ws(b): notes", "--", "docs/notes.md");
    });
    expect(result.violations).toEqual([]);
    expect(read(root, "docs/notes.md")).toBe("step B's final work\n");
    expect(status(root)).toEqual([" M src/mine.ts"]);
  });
});
