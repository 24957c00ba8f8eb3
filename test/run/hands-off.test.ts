import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { BIN, cleanup, gitProject, waitFor, wsAsync, wsc } from "./rig.js";
import { cleanEnv } from "../helpers/cli.js";

/**
 * Issue 20: ws keeps its hands off the user's checkout. People keep working while agents run:
 * what they edit, create or redirect ws's output into is theirs; each step works in a worktree of
 * its own, outside the project, and is charged for exactly what it wrote there.
 */

afterAll(cleanup);


const marks = () => fs.mkdtempSync(path.join(os.tmpdir(), "ws-marks-"));

describe.concurrent("the user's checkout during a run", () => {
  it("keeps a user's edit and new file made while a step runs, and names them in a warning", async () => {
    const dir = marks();
    const [started, go] = [path.join(dir, "started"), path.join(dir, "go")];
    const project = gitProject(
      [{ id: "w", steps: [{ id: "feature", run: `touch '${started}'; while [ ! -f '${go}' ]; do sleep 0.05; done; echo feature > feature.txt`, file_scope: ["feature.txt"] }] }],
      { "src/app.txt": "app\n" },
    );
    const running = wsAsync(project, ["run", "w"]);
    await waitFor("the step to start", () => fs.existsSync(started));
    fs.appendFileSync(path.join(project.dir, "src/app.txt"), "the user's line\n");
    fs.writeFileSync(path.join(project.dir, "notes.md"), "mine\n");
    fs.writeFileSync(go, "");
    const r = await running.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(project.dir, "src/app.txt"), "utf8")).toBe("app\nthe user's line\n");
    expect(fs.readFileSync(path.join(project.dir, "notes.md"), "utf8")).toBe("mine\n");
    expect(r.stdout).toMatch(/warning: changed in your checkout while steps ran: notes\.md, src\/app\.txt; left as it is/);
    expect(git(project.dir, "show", "ws/w:feature.txt")).toBe("feature");
    // The step's work is not in the checkout: ws wrote nothing there.
    expect(fs.existsSync(path.join(project.dir, "feature.txt"))).toBe(false);
  });

  it("the user's git gc --prune=now, git worktree prune and git config during a run break no lane, and their config change stays", async () => {
    const dir = marks();
    const [started, go] = [path.join(dir, "started"), path.join(dir, "go")];
    const project = gitProject([
      {
        id: "w",
        steps: [
          { id: "a", run: "echo a > a.txt", file_scope: ["a.txt"] },
          { id: "b", run: "echo b > b.txt", file_scope: ["b.txt"] },
          // Its base joins a and b: a commit on no branch, which only ws's pin keeps from gc.
          { id: "c", run: `touch '${started}'; while [ ! -f '${go}' ]; do sleep 0.05; done; git status --porcelain > /dev/null && cat a.txt b.txt > c.txt`, file_scope: ["c.txt"], depends_on: ["a", "b"] },
        ],
      },
    ]);
    const running = wsAsync(project, ["run", "w"]);
    await waitFor("the step to start", () => fs.existsSync(started));
    // As aggressive as a user can be: every reflog emptied, every unreachable object pruned now.
    git(project.dir, "reflog", "expire", "--expire=now", "--all");
    git(project.dir, "gc", "-q", "--prune=now");
    git(project.dir, "worktree", "prune");
    git(project.dir, "config", "user.nickname", "mine");
    fs.writeFileSync(go, "");
    const r = await running.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(git(project.dir, "show", "ws/w:c.txt")).toBe("a\nb");
    expect(git(project.dir, "fsck", "--no-progress", "--connectivity-only", "--no-dangling")).toBe("");
    expect(git(project.dir, "config", "user.nickname")).toBe("mine");
    // Reported as any change of the user's is (gc writes info/refs too), and charged to no step.
    expect(r.stdout).toMatch(/changed in your checkout while steps ran: [^\n]*\.git\/config[^\n]*; left as it is/);
  });

  it("`ws run > out.txt` inside the project: the file is ws's output, intact, and no step is blamed for it", () => {
    const project = gitProject([
      {
        id: "w",
        steps: [
          { id: "a", run: "echo a > a.txt", file_scope: ["a.txt"] },
          { id: "b", run: "echo b > b.txt", file_scope: ["b.txt"] },
          { id: "c", run: "cat a.txt b.txt > c.txt", file_scope: ["c.txt"], depends_on: ["a", "b"] },
        ],
      },
    ]);
    const r = spawnSync("sh", ["-c", `'${process.execPath}' '${BIN}' run w > out.txt 2>&1`], { cwd: project.dir, env: cleanEnv(), encoding: "utf8", timeout: 120_000 });
    const out = fs.readFileSync(path.join(project.dir, "out.txt"), "utf8");
    expect(r.status, out).toBe(0);
    expect(out).not.toContain("\0");
    expect(out).toMatch(/run passed/);
    expect(out).not.toContain("changed in your checkout");
    expect(out).not.toContain("scope_violation");
    expect(git(project.dir, "show", "ws/w:c.txt")).toBe("a\nb");
    // The half-written output is not part of the run's base, so it never reaches the branch.
    expect(git(project.dir, "ls-tree", "--name-only", "ws/w")).not.toContain("out.txt");
  });

  it("charges a write outside the scope to the step that made it, however the parallel steps finish", async () => {
    const project = gitProject([
      {
        id: "w",
        steps: [
          // The innocent step finishes first: with one shared tree it was blamed for the stray file.
          { id: "innocent", run: "echo ok > innocent.txt", file_scope: ["innocent.txt"] },
          { id: "culprit", run: "echo stray > stray.txt; sleep 1; echo mine > culprit.txt", file_scope: ["culprit.txt"] },
        ],
      },
    ]);
    const r = await wsc(project, ["run", "w"]);
    expect(r.code).toBe(1);
    const state = JSON.parse(fs.readFileSync(path.join(project.state("w"), "state.json"), "utf8")) as { steps: Record<string, { state: string; reason?: { kind: string }; detail?: string }> };
    expect(state.steps.innocent?.state).toBe("passed");
    expect(state.steps.culprit?.state).toBe("failed");
    expect(state.steps.culprit?.reason?.kind).toBe("scope_violation");
    expect(state.steps.culprit?.detail).toContain("stray.txt");
    expect(git(project.dir, "ls-tree", "--name-only", "ws/w")).not.toContain("stray.txt");
  });

  it("leaves the project's own tree free of worktrees: its test runner and linter find the same files after a run", async () => {
    const project = gitProject([{ id: "w", steps: [{ id: "s", run: "echo built > dist.js", file_scope: ["dist.js"] }] }], {
      "package.json": '{ "name": "lib", "type": "module" }\n',
      "src/lib.js": "export const one = 1;\n",
      "test/lib.test.js": "import { one } from '../src/lib.js';\n",
    });
    const sources = () =>
      spawnSync("find", [".", "-path", "./.git", "-prune", "-o", "(", "-name", "*.js", "-o", "-name", "package.json", ")", "-print"], { cwd: project.dir, encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)
        .sort();
    const before = sources();
    const r = await wsc(project, ["run", "w"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(sources()).toEqual(before);
    expect(git(project.dir, "show", "ws/w:dist.js")).toBe("built");
    // The one thing ws leaves in the project is said once, on the first run.
    expect(r.stdout).toContain("a tool that does not read git's ignore files may want .worktrees/ in its own ignore list");
    const again = await wsc(project, ["run", "w"]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("own ignore list");
  });

  it("a real merge conflict between two steps fails the later one, naming both and the file; nothing is overwritten", async () => {
    const project = gitProject(
      [
        {
          id: "w",
          // Agent steps without a scope may change anything and their conflicts cannot be checked,
          // so the graph check lets them run together (a shell step without one may change nothing).
          tools: { first: { command: "sh", args: ["-c", "echo first > same.txt"] }, second: { command: "sh", args: ["-c", "sleep 1; echo second > same.txt"] } },
          steps: [
            { id: "first", tool: "first", tasks: ["write same.txt"] },
            { id: "second", tool: "second", tasks: ["write same.txt"] },
          ],
        },
      ],
      { "same.txt": "base\n" },
    );
    const r = await wsc(project, ["run", "w"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/second\s.*merge_conflict/);
    const state = JSON.parse(fs.readFileSync(path.join(project.state("w"), "state.json"), "utf8")) as { steps: Record<string, { state: string; detail?: string }> };
    expect(state.steps.first?.state).toBe("passed");
    expect(state.steps.second?.detail).toMatch(/conflicts with first in same\.txt/);
    expect(git(project.dir, "show", "ws/w:same.txt")).toBe("first");
  });
});

describe.concurrent("--resume after the user changed the working tree", () => {
  it("says what changed and resumes on the run's base; --rebase resumes on the working tree as it is now", async () => {
    const project = gitProject(
      [
        {
          id: "w",
          steps: [
            { id: "prep", run: "echo prep > prep.txt", file_scope: ["prep.txt"] },
            { id: "check", run: 'grep -q fixed value.txt && cp value.txt seen.txt', file_scope: ["seen.txt"], depends_on: ["prep"] },
          ],
        },
      ],
      { "value.txt": "broken\n" },
    );
    const first = await wsc(project, ["run", "w"]);
    expect(first.code).toBe(1);
    // The footer says what picks up a fix (issue 33.5), not only the --resume that would not.
    expect(first.stdout).toContain("continue with: ws run --ws-id w --resume (after fixing the code, ws run --ws-id w --resume --rebase");
    fs.writeFileSync(path.join(project.dir, "value.txt"), "fixed\n");

    const resumed = await wsc(project, ["run", "w", "--resume"]);
    expect(resumed.code).toBe(1);
    expect(resumed.stdout).toMatch(/your working tree changed since this run started \(value\.txt\); the unfinished steps resume on the run's old base\. `ws run --resume --rebase`/);
    // After the warning, the footer suggests what works: --rebase, not the --resume that re-ran the old base.
    expect(resumed.stdout).toContain("continue with: ws run --ws-id w --resume --rebase (your working tree changed since the run's base");

    const rebased = await wsc(project, ["run", "w", "--resume", "--rebase"]);
    expect(rebased.code, rebased.stdout + rebased.stderr).toBe(0);
    expect(rebased.stdout).toMatch(/--rebase: the unfinished steps start from the working tree as it is now \(value\.txt changed/);
    expect(git(project.dir, "show", "ws/w:seen.txt")).toBe("fixed");
    // The step that passed before keeps its commit.
    expect(git(project.dir, "show", "ws/w:prep.txt")).toBe("prep");

    const alone = await wsc(project, ["run", "w", "--rebase"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--rebase goes with --resume");
  });
});
