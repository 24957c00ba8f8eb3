import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { status } from "../git/make-repo.js";
import { agentProject, calls, cleanup, events, filesOf, git, outcomes, readState, runConcurrent, setPlan, subjects } from "./rig.js";

// Every test has its own repository and spends most of its time waiting for ws: the tests run
// concurrently, so the cleanup waits for all of them.
afterAll(cleanup);

const FILES = { "README.md": "# project\n", "src/keep.txt": "keep\n" };

describe.concurrent("agent steps through ws run: git", () => {
  it("commits each passed step on ws/<id> with its own files and message, and leaves the user's checkout untouched", async () => {
    const project = agentProject(
      {
        id: "ws-commits",
        name: "commits",
        execution: { max_workers: 2 },
        steps: [
          { id: "s1", tool: "claude", description: "Write one", tasks: ["one"], file_scope: ["src/one.txt"] },
          { id: "s2", tool: "codex", description: "Write two and touch the readme", tasks: ["two"], file_scope: ["src/two.txt", "README.md"], depends_on: ["s1"] },
          { id: "s3", tool: "gemini", tasks: ["Write three, described by its first task"], file_scope: ["src/three/*.txt"] },
        ],
      },
      {
        files: FILES,
        plan: {
          claude: [{ write: { path: "src/one.txt", content: "one\n" } }],
          codex: [{ write: [{ path: "src/two.txt", content: "two\n" }, { path: "README.md", content: "# project\n\nmore\n" }] }],
          gemini: [{ write: { path: "src/three/3.txt", content: "three\n" } }],
        },
      },
    );
    // A dirty tracked file, a staged file and an untracked one: all must survive the run as they were.
    fs.writeFileSync(path.join(project.dir, "src/keep.txt"), "edited by the user\n");
    fs.writeFileSync(path.join(project.dir, "staged.txt"), "staged\n");
    git(project.dir, "add", "staged.txt");
    fs.writeFileSync(path.join(project.dir, "notes.txt"), "untracked\n");
    const before = { status: status(project.dir), head: git(project.dir, "rev-parse", "HEAD"), branch: git(project.dir, "branch", "--show-current") };

    const r = await runConcurrent(project);
    expect(r.code).toBe(0);
    // The run started from the working tree as it is, so the user's work in progress is in its base...
    expect(r.stdout).toMatch(/base: the working tree, includes 3 uncommitted files \(notes\.txt, src\/keep\.txt, staged\.txt; --base HEAD leaves them out\)/);
    // ...and the merge hint says what must happen first instead of printing a command that would fail.
    expect(r.stdout).toContain("work is on branch ws/ws-commits, but `git merge ws/ws-commits` would fail now:");
    expect(r.stdout).toContain("your uncommitted changes to src/keep.txt, staged.txt would be overwritten: commit or stash them first");
    expect(r.stdout).toContain("untracked notes.txt would be overwritten");

    expect({ status: status(project.dir), head: git(project.dir, "rev-parse", "HEAD"), branch: git(project.dir, "branch", "--show-current") }).toEqual(before);
    expect(fs.readFileSync(path.join(project.dir, "src/keep.txt"), "utf8")).toBe("edited by the user\n");
    for (const file of ["src/one.txt", "src/two.txt", "src/three"]) expect(fs.existsSync(path.join(project.dir, file)), file).toBe(false);

    const branch = "ws/ws-commits";
    const log = subjects(project.dir, branch);
    expect(log.slice(-2)).toEqual(["ws: uncommitted work the run started from (3 uncommitted files)", "initial"]);
    expect(log.slice(0, -2).sort()).toEqual(["ws(s1): Write one", "ws(s2): Write two and touch the readme", "ws(s3): Write three, described by its first task"]);
    // s2 depends on s1, so its commit comes after s1's.
    expect(log.indexOf("ws(s2): Write two and touch the readme")).toBeLessThan(log.indexOf("ws(s1): Write one"));
    const steps = readState(project).steps;
    expect(filesOf(project.dir, steps.s1?.commit ?? "")).toEqual(["src/one.txt"]);
    expect(filesOf(project.dir, steps.s2?.commit ?? "")).toEqual(["README.md", "src/two.txt"]);
    expect(filesOf(project.dir, steps.s3?.commit ?? "")).toEqual(["src/three/3.txt"]);
    // The worktree holds nothing uncommitted, and every commit is on the branch.
    expect(status(project.tree)).toEqual([]);
    for (const id of ["s1", "s2", "s3"]) git(project.dir, "merge-base", "--is-ancestor", steps[id]?.commit ?? "", branch);

    // The advertised command works: the user merges the branch and gets the files.
    git(project.dir, "stash", "--include-untracked");
    git(project.dir, "merge", "--ff-only", "-q", branch);
    expect(fs.readFileSync(path.join(project.dir, "src/two.txt"), "utf8")).toBe("two\n");
  });

  it("keeps an out-of-scope edit as a patch, reverts it, tells the retry, and commits only the step's files", async () => {
    const project = agentProject(
      {
        id: "ws-scope",
        name: "scope",
        steps: [{ id: "s", tool: "aider", description: "Write the module", tasks: ["mod"], file_scope: ["src/mod.txt"], retries: 1 }],
      },
      {
        files: FILES,
        plan: {
          aider: [
            { write: [{ path: "src/mod.txt", content: "draft\n" }, { path: "README.md", content: "# hijacked\n" }, { path: "stray/new.txt", content: "stray\n" }] },
            { write: { path: "src/mod.txt", content: "final\n" } },
          ],
        },
      },
    );
    const r = await runConcurrent(project);
    expect(r.code).toBe(0);
    expect(outcomes(project)).toEqual({ s: ["passed", 2, "passed"] });
    const first = events(project).find((e) => e.type === "attempt-end" && e.attempt === 1);
    expect(first?.reason).toBe("scope_violation");
    expect(String(first?.detail)).toContain("README.md, stray/new.txt");

    const patch = path.join(project.stepDir("s"), "attempt-1.out-of-scope.patch");
    const text = fs.readFileSync(patch, "utf8");
    expect(text).toContain("+# hijacked");
    expect(text).toContain("+++ b/stray/new.txt");
    expect(text).not.toContain("src/mod.txt");
    // Reverted: the tree is back to HEAD outside the scope, and the patch still applies there.
    expect(fs.readFileSync(path.join(project.tree, "README.md"), "utf8")).toBe("# project\n");
    expect(fs.existsSync(path.join(project.tree, "stray"))).toBe(false);
    git(project.tree, "apply", "--check", patch);

    expect(calls(project)[1]?.prompt).toContain("outside file_scope: README.md, stray/new.txt");
    const commit = readState(project).steps.s?.commit ?? "";
    expect(filesOf(project.dir, commit)).toEqual(["src/mod.txt"]);
    expect(git(project.dir, "show", `${commit}:src/mod.txt`)).toBe("final");
    expect(status(project.tree)).toEqual([]);
  });

  it('isolation "none" runs in place with no commits, and still reverts out-of-scope edits in a git repo', async () => {
    const project = agentProject(
      {
        id: "ws-in-place",
        name: "in place",
        execution: { isolation: "none" },
        steps: [{ id: "s", tool: "claude", tasks: ["mod"], file_scope: ["src/mod.txt"], retries: 0 }],
      },
      { files: FILES, plan: { claude: [{ write: [{ path: "src/mod.txt", content: "mod\n" }, { path: "src/keep.txt", content: "clobbered\n" }] }] } },
    );
    const head = git(project.dir, "rev-parse", "HEAD");
    const r = await runConcurrent(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toEqual({ s: ["failed", 1, "scope_violation"] });
    expect(fs.realpathSync(calls(project)[0]?.cwd ?? "")).toBe(project.dir);
    expect(git(project.dir, "rev-parse", "HEAD")).toBe(head);
    expect(git(project.dir, "branch", "--list", "ws/*")).toBe("");
    expect(fs.existsSync(project.tree)).toBe(false);
    expect(r.stdout).not.toContain("git merge");
    // The in-scope edit stays (uncommitted), the out-of-scope one is reverted and kept as a patch;
    // ws's own state folder never shows up in git status.
    expect(status(project.dir)).toEqual(["?? src/mod.txt"]);
    expect(fs.readFileSync(path.join(project.dir, "src/keep.txt"), "utf8")).toBe("keep\n");
    expect(fs.readFileSync(path.join(project.stepDir("s"), "attempt-1.out-of-scope.patch"), "utf8")).toContain("+clobbered");
  });

  it("--resume reuses the worktree and its branch, and runs only the steps that did not pass", async () => {
    const project = agentProject(
      {
        id: "ws-resume",
        name: "resume",
        execution: { max_workers: 1 },
        defaults: { retries: 0 },
        steps: [
          { id: "s1", tool: "aider", description: "First", tasks: ["one"], file_scope: ["one.txt"] },
          { id: "s2", tool: "claude", description: "Second", tasks: ["two"], file_scope: ["two.txt"], depends_on: ["s1"] },
        ],
      },
      { plan: { aider: [{ write: { path: "one.txt", content: "1\n" } }], claude: [{ apiError: true, write: { path: "two.txt", content: "broken\n" } }] } },
    );
    expect((await runConcurrent(project)).code).toBe(1);
    expect(outcomes(project)).toEqual({ s1: ["passed", 1, "passed"], s2: ["failed", 1, "tool_error"] });
    // Something only this tree has, which git ignores (a build cache): a recreated tree would lose it.
    fs.appendFileSync(path.join(project.dir, ".git/info/exclude"), ".marker\n");
    fs.writeFileSync(path.join(project.tree, ".marker"), "same tree\n");
    const branchTip = git(project.dir, "rev-parse", "ws/ws-resume");

    setPlan(project, { claude: [{ write: { path: "two.txt", content: "2\n" } }] });
    fs.rmSync(project.log);
    const r = await runConcurrent(project, ["--resume"]);
    expect(r.code).toBe(0);
    // The resume's attempt is s2's second: attempt numbers (and log files) continue across runs.
    expect(outcomes(project)).toEqual({ s1: ["passed", 1, "passed"], s2: ["passed", 2, "passed"] });
    expect(calls(project).map((c) => c.tool)).toEqual(["claude"]);
    expect(fs.realpathSync(calls(project)[0]?.cwd ?? "")).toBe(project.tree);
    expect(fs.readFileSync(path.join(project.tree, ".marker"), "utf8")).toBe("same tree\n");
    const runStarts = events(project).filter((e) => e.type === "run-start");
    expect(runStarts.map((e) => [e.resume, e.workdir, e.branch])).toEqual([
      [false, path.dirname(project.tree), "ws/ws-resume"],
      [true, path.dirname(project.tree), "ws/ws-resume"],
    ]);
    expect(subjects(project.dir, "ws/ws-resume")).toEqual(["ws(s2): Second", "ws(s1): First", "initial"]);
    expect(git(project.dir, "rev-parse", "ws/ws-resume^")).toBe(branchTip);
    expect(git(project.dir, "show", "ws/ws-resume:two.txt")).toBe("2");
    // The lane is no worktree of the user's repository (issue 31): it has a git dir of its own.
    expect(git(project.dir, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")).length).toBe(1);
  });
});

describe.concurrent("agent steps through ws run: a step that passes on a retry", () => {
  it("commits every in-scope file its attempts left in the tree, not only the last attempt's", async () => {
    // Attempt 1 writes a.txt, then fails its test; attempt 2 adds b.txt only. The tests pass with
    // both files in the tree, so the branch must hold both.
    const project = agentProject(
      {
        id: "ws-retry-commit",
        name: "retry commit",
        steps: [{ id: "s", tool: "claude", description: "Write a and b", tasks: ["a and b"], file_scope: ["a.txt", "b.txt"], retries: 1, acceptance_tests: ["test -f a.txt && test -f b.txt"] }],
      },
      { plan: { claude: [{ write: { path: "a.txt", content: "A\n" } }, { write: { path: "b.txt", content: "B\n" } }] } },
    );
    expect((await runConcurrent(project)).code).toBe(0);
    expect(outcomes(project)).toEqual({ s: ["passed", 2, "passed"] });
    expect(filesOf(project.dir, readState(project).steps.s?.commit ?? "")).toEqual(["a.txt", "b.txt"]);
    expect(status(project.tree)).toEqual([]);
  });
});
