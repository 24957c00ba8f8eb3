import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gitRoot } from "../../src/git/repo.js";
import { makeRepo, removeRepos } from "./make-repo.js";

afterAll(removeRepos);

describe("gitRoot", () => {
  it("finds the top of the repository from a subfolder", async () => {
    const repo = makeRepo();
    const sub = path.join(repo, "a", "b");
    fs.mkdirSync(sub, { recursive: true });
    expect(await gitRoot(sub)).toBe(fs.realpathSync(repo));
  });

  it("says there is none outside a repository (without asking git)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-norepo-"));
    try {
      expect(await gitRoot(dir)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
