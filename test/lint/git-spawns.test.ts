import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { gitArgv } from "../../src/git/run-git.js";

// Issue 31: every git command ws runs is built in one place (src/git/run-git.ts), with hooks and
// fsmonitor off; a git started anywhere else would run the repository's hooks and fsmonitor.

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const BUILDER = path.join("git", "run-git.ts");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(file) : entry.name.endsWith(".ts") ? [file] : [];
  });
}

describe("ws's git commands", () => {
  it("are started only by src/git/run-git.ts", () => {
    const spawnsGit = /\b(spawn|spawnSync|execFile|execFileSync|exec|execSync|execa|execaSync|fork)\s*\(\s*["'`]git["'`\s]/;
    const offenders = sources(SRC)
      .filter((file) => path.relative(SRC, file) !== BUILDER)
      .filter((file) => spawnsGit.test(fs.readFileSync(file, "utf8")))
      .map((file) => path.relative(SRC, file));
    expect(offenders).toEqual([]);
  });

  it("all carry hooks off and fsmonitor off before the command", () => {
    const argv = gitArgv(["status"]);
    expect(argv.slice(-1)).toEqual(["status"]);
    expect(argv).toEqual(expect.arrayContaining(["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]));
  });
});
