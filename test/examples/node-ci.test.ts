import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanEnv, removeTempProjects, tempProject, ws } from "../helpers/cli.js";
import { git } from "../git/make-repo.js";
import { lanesHome } from "../../src/git/lanes.js";

/**
 * examples/node-ci: a real project's own lint / typecheck / test / build as a workstream, run by
 * the built binary from a fresh clone (what a user, or CI, has after `git clone`): the example
 * becomes a repository of its own, cloned, and `ws run ws-node-ci` runs in the clone.
 */

const EXAMPLE = fileURLToPath(new URL("../../examples/node-ci", import.meta.url));
const ID = "ws-node-ci";
const CHECKS = ["lint", "typecheck", "test", "build"];

afterEach(() => removeTempProjects());

/** A clone of a repository holding the example as committed; `edit` changes the clone's working tree afterwards. */
function freshClone(edit: (dir: string) => void = () => undefined): string {
  const origin = tempProject("ws-node-ci-origin-");
  // What a run of the example in place may have left (a worktree, a build) is not in its repository.
  fs.cpSync(EXAMPLE, origin, { recursive: true, filter: (src) => ![".worktrees", "dist", "node_modules"].includes(path.basename(src)) });
  git(origin, "init", "-q", "-b", "main");
  git(origin, "add", "-A");
  git(origin, "-c", "user.name=Example", "-c", "user.email=example@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "node-ci example");
  const clone = path.join(tempProject("ws-node-ci-clone-"), "node-ci");
  git(path.dirname(clone), "clone", "-q", origin, clone);
  edit(clone);
  return clone;
}

interface StepJson {
  state: string;
  startedAt?: string;
  endedAt?: string;
  outputs?: Record<string, string>;
}

// The steps run `npm run`: no check for a newer npm (a registry request) in the middle of a test.
const env = () => cleanEnv({ npm_config_update_notifier: "false" });

function run(clone: string) {
  const r = ws(["run", ID], { cwd: clone, env: env() });
  const status = ws(["status", ID, "--json"], { cwd: clone, env: env() });
  expect(status.code, status.stderr).toBe(0);
  const steps = (JSON.parse(status.stdout) as { steps: Record<string, StepJson> }).steps;
  const report = ws(["logs", ID, "--step", "report"], { cwd: clone, env: env() });
  return { r, steps, report: report.stdout };
}

/**
 * The four checks ran in parallel: ws started each without making it wait for another (no wait
 * for a worker, a file-scope conflict or a group), and at least two ran at the same time. Not
 * "all four at once": on a loaded 2-core machine a check of ~350 ms can end before the fourth
 * start, ~10 ms apart here, has come.
 */
function ranInParallel(clone: string, steps: Record<string, StepJson>): boolean {
  const events = fs.readFileSync(path.join(clone, ".worktrees", ID, "events.jsonl"), "utf8").split("\n").filter(Boolean);
  const waited = events.map((line) => JSON.parse(line) as { type: string; step?: string; wait?: string })
    .some((e) => e.type === "step-wait" && CHECKS.includes(e.step ?? "") && ["worker", "conflict", "group"].includes(e.wait ?? ""));
  const spans = CHECKS.map((id) => [Date.parse(steps[id]?.startedAt ?? ""), Date.parse(steps[id]?.endedAt ?? "")] as const);
  const overlapped = spans.some(([start, end], i) => spans.some(([s2, e2], j) => i !== j && start < e2 && s2 < end));
  return !waited && overlapped;
}

describe("examples/node-ci from a fresh clone", () => {
  it("runs the project's lint, typecheck, test and build in parallel, then the report: exit 0", () => {
    const clone = freshClone();
    const { r, steps, report } = run(clone);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const id of [...CHECKS, "report"]) expect(steps[id], id).toMatchObject({ state: "passed" });
    expect(ranInParallel(clone, steps)).toBe(true);
    // Each check did its real work and handed its summary to the report.
    expect(steps.test?.outputs?.summary).toBe("6 tests passed in 2 files");
    expect(steps.build?.outputs?.summary).toMatch(/^dist\/: 3 modules, \d+ bytes, exports slugify, wordCount$/);
    expect(report).toContain("lint       ok   11 files, no problems");
    expect(report).toContain("typecheck  ok   11 files parse");
    expect(steps.report?.outputs?.summary).toBe("4 of 4 checks passed");
    // The build's output is ignored by git: no scope violation, nothing committed, the clone untouched.
    // It stays in the build step's own worktree, outside the clone.
    const home = lanesHome(clone, `ws/${ID}`, process.env);
    expect(fs.readdirSync(home).some((lane) => fs.existsSync(path.join(home, lane, "dist", "index.js")))).toBe(true);
    expect(fs.existsSync(path.join(clone, "dist"))).toBe(false);
    expect(git(clone, "status", "--porcelain")).toBe("");
  });

  it("a failing check (an uncommitted lint error and a broken test): the report still runs, the others pass, exit 1", () => {
    const clone = freshClone((dir) => {
      // Not committed: a run starts from the working tree as the user sees it.
      fs.appendFileSync(path.join(dir, "src", "word-count.js"), "var unused = 1;\n");
      const test = path.join(dir, "test", "slugify.test.js");
      fs.writeFileSync(test, fs.readFileSync(test, "utf8").replace('"hello-world"', '"hello-world!"'));
    });
    const { r, steps, report } = run(clone);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(steps.lint).toMatchObject({ state: "failed" });
    expect(steps.test).toMatchObject({ state: "failed" });
    expect(steps.typecheck).toMatchObject({ state: "passed" });
    expect(steps.build).toMatchObject({ state: "passed" });
    expect(steps.report).toMatchObject({ state: "passed" });
    expect(ranInParallel(clone, steps)).toBe(true);
    // The failing lines are printed where the user looks, and the report names what failed.
    expect(r.stdout).toContain("src/word-count.js:6: use let or const, not var");
    expect(r.stdout).toContain("test: 1 of 6 tests failed");
    expect(report).toContain("lint       FAIL no result (see: ws logs ws-node-ci --step lint)");
    expect(report).toContain("test       FAIL no result (see: ws logs ws-node-ci --step test)");
    expect(report).toContain("build      ok   dist/: 3 modules");
    expect(steps.report?.outputs?.summary).toBe("2 of 4 checks passed");
  });
});
