import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { status } from "../git/make-repo.js";
import { sandboxProblem } from "../../src/proc/sandbox.js";
import { agentProject, cleanup, events, git, outcomes, readState, run, runConcurrent, tempDir, type AgentProject } from "../agents/rig.js";

/**
 * Issues 14, 20 and 31: each case is a shell step running test/fixtures/guard/hostile.sh, which
 * does one hostile thing from its worktree after writing its own in-scope file. Each step has a
 * lane of its own, outside the project, with a git dir of its own. What it does inside the lane
 * (git moves, links out of it, deleting it, hooks, config and refs of its git dir) fails it as a
 * scope_violation and is undone there, with or without the sandbox. What it does outside (the
 * user's checkout and repository, reached by their path) is prevented by the sandbox; without one
 * it is reported and left as it is, since ws cannot tell it from the user's own work.
 */

// After all, not each: the tables below run concurrently, and a test's cleanup must not remove
// the projects of those still running.
afterAll(cleanup);

const HOSTILE = fileURLToPath(new URL("../fixtures/guard/hostile.sh", import.meta.url));
const ID = "guarded";
const BRANCH = `ws/${ID}`;

function project(hostileCase: string, scope: string[] = ["bad.txt"], isolation: "worktree" | "sandbox" = "worktree"): AgentProject {
  const p = agentProject(
    {
      id: ID,
      execution: { isolation },
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
    // ws's own refs aside: the run's branch and the pins that keep its lanes' bases.
    refs: git(dir, "for-each-ref", "--format=%(refname) %(objectname)").split("\n").filter((l) => !l.startsWith(`refs/heads/${BRANCH} `) && !l.startsWith("refs/ws-pins/")).join("\n"),
    config: fs.readFileSync(path.join(gitDir, "config"), "utf8"),
    hooks: fs.readdirSync(path.join(gitDir, "hooks")).sort(),
    info: fs.readdirSync(path.join(gitDir, "info")).map((f) => `${f}:${fs.readFileSync(path.join(gitDir, "info", f), "utf8")}`).sort(),
  };
}

/** The run, awaited without blocking: the hostile cases are independent and run side by side. */
async function runHostile(p: AgentProject, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; detail: string; output: string; mark: string }> {
  const mark = path.join(tempDir("ws-guard-mark-"), "executed");
  const r = await runConcurrent(p, [], { HOSTILE_MARK: mark, HOSTILE_CHECKOUT: p.dir, ...env });
  const end = events(p).find((e) => e.type === "attempt-end" && e.step === "bad");
  return { code: r.code, detail: String(end?.detail ?? ""), output: r.stdout + r.stderr, mark };
}

/** The run's branch ends at the commit of the step that passed; the failed step's worktree is back at it. */
function expectBranchKept(p: AgentProject): void {
  const first = readState(p).steps.first?.commit ?? "";
  expect(first).toMatch(/^[0-9a-f]{40}$/);
  expect(git(p.dir, "rev-parse", `refs/heads/${BRANCH}`)).toBe(first);
  expect(git(p.tree, "rev-parse", "HEAD")).toBe(first);
  expect(fs.readFileSync(path.join(p.tree, "first.txt"), "utf8")).toBe("first\n");
}

/** The user's next commit in the checkout runs nothing the step planted. */
function expectNothingPlantedRuns(p: AgentProject, mark: string): void {
  git(p.dir, "commit", "-q", "--allow-empty", "-m", "the user's next commit");
  git(p.dir, "status");
  expect(fs.existsSync(mark), "a planted hook or fsmonitor ran").toBe(false);
}

const OUTSIDE = ["write-absolute", "hook", "fsmonitor", "info", "tag", "link-checkout"];

describe("escapes from the step's worktree are prevented by the sandbox", () => {
  it.concurrent.each(OUTSIDE)("%s: the write fails, the step fails, the user's repository is as it was", async (hostileCase) => {
    const p = project(hostileCase, hostileCase === "link-checkout" ? ["bad.txt", "out", "out/**"] : ["bad.txt"], "sandbox");
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.code, result.output).toBe(1);
    expect(outcomes(p).first).toEqual(["passed", 1, "passed"]);
    expect(outcomes(p).bad?.[0]).toBe("failed");
    expect(view(p.dir)).toEqual(before);
    expect(result.output).not.toContain("changed in your checkout");
    expectBranchKept(p);
    expectNothingPlantedRuns(p, result.mark);
  });
});

describe("agent steps run sandboxed by default where bwrap works", () => {
  it.concurrent("an agent that writes into the checkout is stopped by the sandbox (or, without bwrap, reported)", async () => {
    const p = agentProject(
      {
        id: "agents",
        // A custom tool is an agent step: only shell steps and acceptance tests are the user's own commands.
        tools: { evil: { command: "/bin/sh", args: ["-c", "echo mine > mine.txt; echo pwned >> \"$CHECKOUT/README.md\""] } },
        steps: [{ id: "agent", tool: "evil", tasks: ["x"], file_scope: ["mine.txt"], env: { CHECKOUT: "" } }],
      },
      { files: { "README.md": "# project\n" } },
    );
    // The checkout's path reaches the tool through the step's env.
    const file = path.join(p.dir, "workstreams", "agents.json");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"CHECKOUT": ""', `"CHECKOUT": ${JSON.stringify(p.dir)}`));
    git(p.dir, "commit", "-qam", "point at the checkout");
    const r = await runConcurrent(p);
    if (sandboxProblem("bwrap", true) === undefined) {
      expect(r.stdout).toContain("agent steps run sandboxed (bubblewrap)");
      expect(r.code, r.stdout).toBe(1);
      expect(outcomes(p).agent?.[0]).toBe("failed");
      expect(fs.readFileSync(path.join(p.dir, "README.md"), "utf8")).toBe("# project\n");
    } else {
      expect(r.stdout).toContain("no sandbox for agent steps");
      expect(r.stdout).toMatch(/changed in your checkout while steps ran: README\.md/);
    }
  });

  it.concurrent('a workstream that sets isolation "worktree" runs its agents without the sandbox', async () => {
    const p = agentProject({ id: "plain", execution: { isolation: "worktree" }, tools: { t: { command: "/bin/sh", args: ["-c", "echo ok > ok.txt"] } }, steps: [{ id: "s", tool: "t", tasks: ["x"], file_scope: ["ok.txt"] }] });
    const r = await runConcurrent(p);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).not.toContain("sandbox");
  });
});

describe("without the sandbox, what changes outside the worktrees is reported, never reverted", () => {
  it.concurrent("a write into the checkout is kept and named in a warning, not charged to the step", async () => {
    const p = project("write-absolute");
    const result = await runHostile(p);
    expect(result.code, result.output).toBe(0);
    expect(outcomes(p)).toEqual({ first: ["passed", 1, "passed"], bad: ["passed", 1, "passed"] });
    // A look runs beside the steps: the step's two writes may be named in one warning or in two.
    const named = result.output.split("\n").filter((l) => /changed in your checkout while steps ran: .*; left as it is: ws cannot tell who/.test(l)).join("\n");
    expect(named).toContain("README.md");
    expect(named).toContain("src/planted.txt");
    expect(fs.readFileSync(path.join(p.dir, "README.md"), "utf8")).toBe("# project\npwned\n");
    expect(fs.readFileSync(path.join(p.dir, "src/planted.txt"), "utf8")).toBe("planted\n");
  });

  it.concurrent("a relative write climbs out of the step's worktree, not into the project", async () => {
    const p = project("write-relative");
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.code, result.output).toBe(0);
    expect(view(p.dir)).toEqual(before);
  });

  it.concurrent("a branch of the user's moved by a step that goes to the repository itself is named in a warning and left as it is", async () => {
    // What only the sandbox prevents (README, "What a step may touch"): a step that runs git in
    // the user's repository by its path, as the user could.
    const p = project("escape-refs");
    const result = await runHostile(p);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/changed in your checkout while steps ran: .*refs\/heads\/escaped/);
    expect(git(p.dir, "rev-parse", "refs/heads/escaped")).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("without the sandbox, a lane's git dir is its own (issue 31)", () => {
  it.concurrent.each([
    ["hook-and-fsmonitor", /changed its lane's git dir \(config, hooks\/pre-commit\)/],
    ["hook", /changed its lane's git dir \(hooks\/pre-commit\)/],
    ["fsmonitor", /changed its lane's git dir \(config\)/],
    ["info", /changed its lane's git dir \(info\/attributes, info\/exclude\)/],
    ["tag", /changed its lane's git dir \(refs\/heads\/main, refs\/tags\/evil\)/],
    ["move-refs", /changed its lane's git dir \(refs\/heads\/main\)/],
  ])("%s: fails the step with scope_violation naming it; the user's repository is as it was and nothing planted runs", async (hostileCase, detail) => {
    const p = project(hostileCase);
    const before = view(p.dir);
    const result = await runHostile(p, { WS_BWRAP: "none" });
    expect(result.code, result.output).toBe(1);
    expect(outcomes(p)).toEqual({ first: ["passed", 1, "passed"], bad: ["failed", 1, "scope_violation"] });
    expect(result.detail).toMatch(detail);
    expect(view(p.dir)).toEqual(before);
    expect(result.output).not.toContain("changed in your checkout");
    // The lane is as ws made it again: the next step there runs nothing planted either.
    expect(fs.existsSync(path.join(`${p.tree}.git`, "hooks"))).toBe(false);
    expect(fs.readFileSync(path.join(`${p.tree}.git`, "config"), "utf8")).not.toContain("fsmonitor");
    expectBranchKept(p);
    // Nothing planted ran during the run (ws's own git in the lane), nor on the user's next commit.
    expectNothingPlantedRuns(p, result.mark);
  });

  it.concurrent("a push to the user's repository by its path is refused by git in the lane", async () => {
    const p = project("move-refs");
    await runHostile(p, { WS_BWRAP: "none" });
    expect(fs.readFileSync(path.join(p.stepDir("bad"), "attempt-1.log"), "utf8")).toContain("push refused");
    expect(git(p.dir, "for-each-ref", "--format=%(refname)", "refs/heads/pushed")).toBe("");
  });
});

describe("what a step does inside its own worktree", () => {
  it.concurrent("a symlink out of the tree is a violation and never committed", async () => {
    const p = project("link-etc", ["bad.txt", "out"]);
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.code, result.output).toBe(1);
    expect(outcomes(p)).toEqual({ first: ["passed", 1, "passed"], bad: ["failed", 1, "scope_violation"] });
    expect(result.detail).toMatch(/symlinks pointing outside the worktree: out/);
    expect(view(p.dir)).toEqual(before);
    expectBranchKept(p);
  });

  it.concurrent("a tracked folder replaced by a symlink to an outside folder fails the step, not ws (was exit 70)", async () => {
    const p = project("folder-link");
    const outside = tempDir("ws-guard-outside-");
    fs.writeFileSync(path.join(outside, "a.txt"), "outside\n");
    const before = view(p.dir);
    const result = await runHostile(p, { HOSTILE_OUTSIDE: outside });
    expect(result.detail).toMatch(/symlinks pointing outside the worktree: src/);
    expect(outcomes(p).bad).toEqual(["failed", 1, "scope_violation"]);
    expect(view(p.dir)).toEqual(before);
    expect(fs.lstatSync(path.join(p.tree, "src")).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(p.tree, "src/a.txt"), "utf8")).toBe("a\n");
    expect(fs.readdirSync(outside)).toEqual(["a.txt"]);
    expect(fs.readFileSync(path.join(outside, "a.txt"), "utf8")).toBe("outside\n");
  });

  it.concurrent.each([
    ["reset", /HEAD was moved to [0-9a-f]{12} \(a commit or reset\): put it back/],
    ["commit", /HEAD was moved to [0-9a-f]{12} \(a commit or reset\)/],
    ["rm-tree", /the worktree .* was deleted; recreated it/],
    ["fresh-git", /\.git file was replaced by a repository of the step's own/],
  ])("%s: fails the step with the reason and restores its worktree", async (hostileCase, detail) => {
    const p = project(hostileCase);
    const before = view(p.dir);
    const result = await runHostile(p);
    expect(result.code, result.output).toBe(1);
    expect(result.detail).toMatch(detail);
    expect(outcomes(p)).toEqual({ first: ["passed", 1, "passed"], bad: ["failed", 1, "scope_violation"] });
    expect(view(p.dir)).toEqual(before);
    expectBranchKept(p);
    expect(result.output).not.toMatch(/internal error/i);
  });

  it.concurrent("a branch checked out in the worktree: HEAD is put back, the new branch (the lane's own) removed", async () => {
    const p = project("branch");
    const result = await runHostile(p);
    expect(result.detail).toMatch(/HEAD was moved to branch other/);
    expect(result.detail).toMatch(/changed its lane's git dir \(refs\/heads\/other\)/);
    expect(outcomes(p).bad).toEqual(["failed", 1, "scope_violation"]);
    expect(result.output).not.toContain("changed in your checkout");
    expect(git(p.dir, "for-each-ref", "--format=%(refname)", "refs/heads/other")).toBe("");
    expectBranchKept(p);
  });

  it.concurrent("the step's own history is kept as a patch", async () => {
    const p = project("commit");
    await runHostile(p);
    const patch = fs.readFileSync(path.join(p.stepDir("bad"), "attempt-1.guard", "history.patch"), "utf8");
    expect(patch).toContain("+stray");
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
