import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { listBackups, newBackupName, runBranch, timestamp } from "../../src/git/branch-name.js";
import { git, makeRepo, removeRepos } from "./make-repo.js";

afterAll(removeRepos);

const isValidBranch = (name: string) => {
  try {
    execFileSync("git", ["check-ref-format", "--branch", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

describe("runBranch", () => {
  it("is ws/<id> for a project at the top of its repository", () => {
    expect(runBranch("/repo", "/repo", "ci")).toBe("ws/ci");
  });

  it("appends the sub-project's path, so two packages with one id never share a branch", () => {
    expect(runBranch("/repo", "/repo/packages/api", "ci")).toBe("ws/ci@packages+api");
    expect(runBranch("/repo", "/repo/packages/web", "ci")).toBe("ws/ci@packages+web");
  });

  it("always makes a name git accepts, whatever the folder is called", () => {
    for (const sub of ["my dir/x", ".hidden/a..b", "a/b.lock", "x~y^z:w?*[", "ünï/cödé"]) {
      const name = runBranch("/repo", `/repo/${sub}`, "ci");
      expect(isValidBranch(name), name).toBe(true);
      expect(name.startsWith("ws/ci@")).toBe(true);
    }
  });
});

describe("newBackupName", () => {
  it("counts past every backup of the same second, never into the gap a pruned one left", async () => {
    const root = makeRepo();
    const now = new Date(2026, 10, 30, 12, 0, 5);
    const stamp = `ws/ci-${timestamp(now)}`;
    expect(await newBackupName(root, "ws/ci", now)).toBe(stamp);
    // The first backup of this second was pruned; the second and third remain.
    git(root, "branch", `${stamp}-2`);
    git(root, "branch", `${stamp}-3`);
    const next = await newBackupName(root, "ws/ci", now);
    expect(next).toBe(`${stamp}-4`);
    git(root, "branch", next);
    expect((await listBackups(root, "ws/ci")).at(-1)).toBe(next);
  });
});
