import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runBranch } from "../../src/git/branch-name.js";

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
