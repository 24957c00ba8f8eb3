import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { status } from "../git/make-repo.js";
import { agentProject, cleanup, events, git, outcomes, readState, run, runConcurrent, tempDir, type AgentProject } from "../agents/rig.js";

/**
 * Issue 14, "the user's checkout and repository are never touched" and "git moves made by the
 * step": each case is a shell step running test/fixtures/guard/hostile.sh, which does one hostile
 * thing from the run's worktree after writing its own in-scope file. The step must fail as a
 * scope_violation, with everything put back: the user's checkout (files, HEAD, branch), the shared
 * git dir (hooks, config, info), the refs, the run's branch at the commit of the step before, and
 * the worktree itself; nothing the step planted is ever executed.
 */

// After all, not each: the tables below run concurrently, and a test's cleanup must not remove
// the projects of those still running.
afterAll(cleanup);

const HOSTILE = fileURLToPath(new URL("../fixtures/guard/hostile.sh", import.meta.url));
const ID = "guarded";
const BRANCH = `ws/${ID}`;

function project(hostileCase: string, scope: string[] = ["bad.txt"]): AgentProject {
  const p = agentProject(
    {
      id: ID,
      steps: [
        { id: "first", run: "echo first > first.txt", file_scope: ["first.txt"] },
        { id: "bad", run: `sh '${HOSTILE}' ${hostileCase}`, file_scope: scope, depends_on: ["first"] },
      ],
    },
    { files: { "README.md": "# project\n", "src/a.txt": "a\n" } },
  );
  // What ws itself adds on its first run (hiding .worktrees/), so that `view` compares the steps' doing only.
  fs.appendFileSync(path.join(p.dir, ".git", "info", "exclude"), ".worktrees/\n");
  return p;
}

interface RepoView {
  status: string[];
  head: string;
  branch: string;
  readme: string;
  refs: string;
  config: string;
  hooks: string[];
  info: string[];
}

/** Everything of the user's repository a step must leave as it was (the run's own branch aside). */
function view(dir: string): RepoView {
  const gitDir = path.join(dir, ".git");
  return {
    status: status(dir),
    head: git(dir, "rev-parse", "HEAD"),
    branch: git(dir, "symbolic-ref", "HEAD"),
    readme: fs.readFileSync(path.join(dir, "README.md"), "utf8"),
    refs: git(dir, "for-each-ref", "--format=%(refname) %(objectname)").split("\n").filter((l) => !l.startsWith(`refs/heads/${BRANCH} `)).join("\n"),
    config: fs.readFileSync(path.join(gitDir, "config"), "utf8"),
    hooks: fs.readdirSync(path.join(gitDir, "hooks")).sort(),
    info: fs.readdirSync(path.join(gitDir, "info")).map((f) => `${f}:${fs.readFileSync(path.join(gitDir, "info", f), "utf8")}`).sort(),
  };
}

/** The run, awaited without blocking: the hostile cases are independent and run side by side. */
async function runHostile(p: AgentProject, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; detail: string; output: string; mark: string }> {
  const mark = path.join(tempDir("ws-guard-mark-"), "executed");
  const r = await runConcurrent(p, [], { HOSTILE_MARK: mark, ...env });
  const end = events(p).find((e) => e.type === "attempt-end" && e.step === "bad");
  return { code: r.code, detail: String(end?.detail ?? ""), output: r.stdout + r.stderr, mark };
}

function expectContained(p: AgentProject, before: RepoView, result: { code: number | null; output: string; mark: string }): void {
  expect(result.code, result.output).toBe(1);
  expect(outcomes(p)).toEqual({ first: ["passed", 1, "passed"], bad: ["failed", 1, "scope_violation"] });
  expect(view(p.dir)).toEqual(before);
  // The run's branch ends at the commit of the step that passed, and the worktree is on it.
  const first = readState(p).steps.first?.commit ?? "";
  expect(first).toMatch(/^[0-9a-f]{40}$/);
  expect(git(p.dir, "rev-parse", `refs/heads/${BRANCH}`)).toBe(first);
  expect(git(p.tree, "symbolic-ref", "HEAD")).toBe(`refs/heads/${BRANCH}`);
  expect(fs.readFileSync(path.join(p.tree, "first.txt"), "utf8")).toBe("first\n");
  expect(status(p.tree).filter((l) => l !== "?? bad.txt")).toEqual([]);
  // The user's next commit in the checkout runs nothing the step planted.
  git(p.dir, "commit", "-q", "--allow-empty", "-m", "the user's next commit");
  git(p.dir, "status");
  expect(fs.existsSync(result.mark), "a planted hook or fsmonitor ran").toBe(false);
}

describe("the user's checkout and repository are never touched", () => {
  it.concurrent.each([
    ["write-relative", /your checkout .*README\.md, planted\.txt/],
    ["write-absolute", /your checkout .*README\.md, src\/planted\.txt/],
    ["hook", /git dir \(hooks\/pre-commit\)/],
    ["fsmonitor", /git dir \(config\)/],
    ["info", /git dir \(info\/attributes, info\/exclude\)/],
    ["tag", /refs \(refs\/heads\/main, refs\/tags\/evil\)/],
  ])("%s: fails the step, puts everything back and keeps the step's version", async (hostileCase, detail) => {
    const p = project(hostileCase);
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.detail).toMatch(detail);
    expectContained(p, before, result);
    expect(fs.readdirSync(path.join(p.stepDir("bad"), "attempt-1.guard")).length).toBeGreaterThan(0);
  });

  it.concurrent("a symlink out of the tree is a violation and never committed, and a write through it is undone", async () => {
    const p = project("link-checkout", ["bad.txt", "out", "out/**"]);
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.detail).toMatch(/symlinks pointing outside the worktree: out/);
    expectContained(p, before, result);
    expect(fs.existsSync(path.join(p.tree, "out"))).toBe(false);
  });

  it.concurrent("a symlink to /etc inside the scope is removed", async () => {
    const p = project("link-etc", ["bad.txt", "out"]);
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.detail).toMatch(/symlinks pointing outside the worktree: out/);
    expectContained(p, before, result);
  });

  it.concurrent("a tracked folder replaced by a symlink to an outside folder fails the step, not ws (was exit 70)", async () => {
    const p = project("folder-link");
    const outside = tempDir("ws-guard-outside-");
    fs.writeFileSync(path.join(outside, "a.txt"), "outside\n");
    const before = view(p.dir);
    const result = await runHostile(p, { HOSTILE_OUTSIDE: outside });
    expect(result.detail).toMatch(/symlinks pointing outside the worktree: src/);
    expectContained(p, before, result);
    expect(fs.lstatSync(path.join(p.tree, "src")).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(p.tree, "src/a.txt"), "utf8")).toBe("a\n");
    expect(fs.readdirSync(outside)).toEqual(["a.txt"]);
    expect(fs.readFileSync(path.join(outside, "a.txt"), "utf8")).toBe("outside\n");
  });
});

describe("git moves made by the step", () => {
  it.concurrent.each([
    ["branch", /HEAD was moved to branch other/],
    ["reset", /ws\/guarded was moved from [0-9a-f]{12} to [0-9a-f]{12}/],
    ["commit", /ws\/guarded was moved from/],
    ["rm-tree", /the worktree .* was deleted; recreated it/],
    ["fresh-git", /\.git file was replaced by a repository of the step's own/],
  ])("%s: fails the step with the reason and restores history and the worktree", async (hostileCase, detail) => {
    const p = project(hostileCase);
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.detail).toMatch(detail);
    expectContained(p, before, result);
    expect(result.output).not.toMatch(/internal error/i);
  });

  it.concurrent("the step's own history is kept as a patch", async () => {
    const p = project("commit");
    await runHostile(p);
    const patch = fs.readFileSync(path.join(p.stepDir("bad"), "attempt-1.guard", "history.patch"), "utf8");
    expect(patch).toContain("+stray");
    expect(fs.existsSync(path.join(p.tree, "stray.txt"))).toBe(false);
  });
});

describe("what isolation \"none\" leaves unprotected is said in the run header", () => {
  it("outside git: scopes are not enforced", () => {
    const p = agentProject({ id: "plain", steps: [{ id: "s", run: "rm -f .env", file_scope: ["out.txt"] }] }, { git: false, files: { ".env": "KEY=1\n" } });
    const r = run(p);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/not a git repository: steps run in place, file_scope is not enforced/);
  });

  it("in a git checkout: ignored files are not protected", () => {
    const p = agentProject(
      { id: "inplace", execution: { isolation: "none" }, steps: [{ id: "s", run: "rm -f .env", file_scope: ["out.txt"] }] },
      { files: { "README.md": "# project\n", ".gitignore": ".env\n" } },
    );
    fs.writeFileSync(path.join(p.dir, ".env"), "KEY=1\n");
    const r = run(p);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/isolation "none": .*ignored files such as \.env, and anything outside the repository, are not protected/);
  });
});
