import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { git, status } from "../git/make-repo.js";
import { BIN, cleanup, gitProject, makeProject, waitFor, wsAsync, type Project, wsc } from "./rig.js";
import { lanesHome } from "../../src/git/lanes.js";

/** Where the per-step worktrees of a run branch live (outside the project). */
const lanes = (project: Project, branch = "ws/w") => lanesHome(project.dir, branch, process.env);

/** ws run in a git repository: the run's base, its reused worktree, its branches, ws clean. */

// Every test has its own repository, and most of a test is waiting for ws and git: the describes
// and their tests run concurrently, so the cleanup waits until all of them are done.
afterAll(cleanup);

/** ws to completion without blocking the other tests of this file. */


const copyStep = (id = "see") => ({ id, tool: "shell", run: "cat value.txt > seen.txt", file_scope: ["seen.txt"] });

function branches(dir: string): string[] {
  return git(dir, "branch", "--format=%(refname:short)").split("\n").filter(Boolean).sort();
}

describe.concurrent("ws run in a git repository", () => {
  it("runs on the working tree as it is (uncommitted and untracked files), says so, and --base HEAD opts out", async () => {
    const project = gitProject([{ id: "w", steps: [copyStep()] }], { ".gitignore": "*.log\n", "value.txt": "committed\n" });
    fs.writeFileSync(path.join(project.dir, "value.txt"), "work in progress\n");
    fs.writeFileSync(path.join(project.dir, "extra.txt"), "untracked\n");
    fs.writeFileSync(path.join(project.dir, "debug.log"), "ignored\n");
    const before = status(project.dir);

    const r = await wsc(project, ["run", "--ws-id", "w"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("base: the working tree, includes 2 uncommitted files (extra.txt, value.txt; --base HEAD leaves them out)");
    expect(git(project.dir, "show", "ws/w:seen.txt")).toBe("work in progress");
    expect(git(project.dir, "show", "ws/w:extra.txt")).toBe("untracked");
    expect(git(project.dir, "ls-tree", "--name-only", "ws/w")).not.toContain("debug.log");
    expect(status(project.dir)).toEqual(before);

    const h = await wsc(project, ["run", "--ws-id", "w", "--base", "HEAD"]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/base: HEAD \([0-9a-f]{8}\)/);
    expect(git(project.dir, "show", "ws/w:seen.txt")).toBe("committed");

    const bad = await wsc(project, ["run", "--ws-id", "w", "--base", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("ws: --base nope: no such commit in");
    const resumed = await wsc(project, ["run", "--ws-id", "w", "--resume", "--base", "HEAD"]);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain("--base HEAD can't be combined with --resume");
  });

  it("commits as the identity the repository's own config names, with no global git config (a lane's config holds none of the repository's)", async () => {
    const project = gitProject([{ id: "who", steps: [{ id: "a", run: "echo a > a.txt", file_scope: ["a.txt"] }] }]);
    git(project.dir, "config", "user.name", "Repo Only");
    git(project.dir, "config", "user.email", "repo-only@example.com");
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ws-home-"));
    try {
      const r = await wsc(project, ["run", "who"], { HOME: home, XDG_CONFIG_HOME: home });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(git(project.dir, "log", "-1", "--format=%an <%ae> / %cn <%ce>", "ws/who")).toBe("Repo Only <repo-only@example.com> / Repo Only <repo-only@example.com>");
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("reuses the worktree between runs, copies and links what git ignores, runs setup once, and keeps no backup of its own commits", async () => {
    const counter = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-count-")), "count");
    const wsFile = {
      id: "w",
      worktree: { copy: [".env"], link: ["deps"], setup: 'echo installing; echo x >> "$COUNT"' },
      steps: [{ id: "use", tool: "shell", run: "cat .env deps/lib.txt value.txt > out.txt", file_scope: ["out.txt"] }],
    };
    const project = gitProject([wsFile], { ".gitignore": ".env\ndeps\n", "value.txt": "v1\n" });
    fs.writeFileSync(path.join(project.dir, ".env"), "KEY=1\n");
    fs.mkdirSync(path.join(project.dir, "deps"));
    fs.writeFileSync(path.join(project.dir, "deps/lib.txt"), "lib\n");

    const first = await wsc(project, ["run", "--ws-id", "w"], { COUNT: counter });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/worktree.setup "echo installing; echo x >> "\$COUNT"" ran in the worktree/);
    // Said as it starts, before the run's header (which waits for the first lane): a long setup is no silence.
    expect(first.stdout.split("\n")[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} setting up lane-1: worktree.setup "echo installing; echo x >> "\$COUNT"" \(output: .*lanes\/lane-1\/setup.log\)$/);
    expect(git(project.dir, "show", "ws/w:out.txt")).toBe("KEY=1\nlib\nv1");
    expect(fs.readFileSync(path.join(project.state("w"), "lanes", "lane-1", "setup.log"), "utf8")).toContain("installing");
    // The worktree is outside the project: the project's own tools never see it.
    expect(fs.existsSync(path.join(lanes(project), "lane-1", "out.txt"))).toBe(true);
    expect(lanes(project).startsWith(project.dir)).toBe(false);

    fs.writeFileSync(path.join(project.dir, ".env"), "KEY=2\n");
    git(project.dir, "commit", "-q", "-am", "x", "--allow-empty");
    fs.writeFileSync(path.join(project.dir, "value.txt"), "v2\n");
    const second = await wsc(project, ["run", "--ws-id", "w"], { COUNT: counter });
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toContain("reused the worktree of the last run");
    // The header says it once, in the run-start line (not as a warning as well).
    expect(second.stdout.match(/reused the worktree/g)).toHaveLength(1);
    expect(second.stdout).not.toContain("worktree.setup"); // done once; no warning every run
    expect(fs.readFileSync(counter, "utf8")).toBe("x\n");
    expect(git(project.dir, "show", "ws/w:out.txt")).toBe("KEY=2\nlib\nv2");
    expect(branches(project.dir)).toEqual(["main", "ws/w"]);
  });

  it("replaces a worktree lane of an older ws by a lane with a git dir of its own, keeping its uncommitted work; ws clean removes both kinds", async () => {
    const project = gitProject([{ id: "w", steps: [copyStep()] }], { "value.txt": "v\n" });
    // What an older ws left: lane-1 a worktree of the user's repository, with uncommitted work.
    const old = path.join(lanes(project), "lane-1");
    fs.mkdirSync(path.dirname(old), { recursive: true });
    git(project.dir, "worktree", "add", "-q", "--detach", old, "HEAD");
    fs.writeFileSync(path.join(old, "left.txt"), "left behind\n");
    const r = await wsc(project, ["run", "--ws-id", "w"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replaced the worktree .*lane-1 of an older ws by a lane with a git dir of its own/);
    expect(git(project.dir, "show", "ws/w:seen.txt")).toBe("v");
    expect(git(project.dir, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "))).toHaveLength(1);
    expect(fs.readFileSync(path.join(old, ".git"), "utf8")).toBe(`gitdir: ${old}.git\n`);
    const kept = fs.readdirSync(path.join(project.state("w"), "leftovers"));
    expect(fs.readFileSync(path.join(project.state("w"), "leftovers", kept[0]!), "utf8")).toContain("+left behind");

    // ws clean removes a lane of either kind: here one of each.
    const older = path.join(lanes(project), "lane-2");
    git(project.dir, "worktree", "add", "-q", "--detach", older, "HEAD");
    const cleaned = await wsc(project, ["clean", "--ws-id", "w", "--yes"]);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(fs.existsSync(lanes(project))).toBe(false);
    expect(git(project.dir, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "))).toHaveLength(1);
  });

  it("refuses (exit 2, with the fix) when ws/<id> is checked out in the user's checkout, instead of running in place", async () => {
    const project = gitProject([{ id: "w", steps: [copyStep()] }], { "value.txt": "v\n" });
    git(project.dir, "checkout", "-q", "-b", "ws/w");
    const r = await wsc(project, ["run", "--ws-id", "w"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ws: branch ws/w is checked out in ${project.dir}`);
    expect(r.stderr).toContain("fix: switch that checkout to another branch");
    expect(fs.existsSync(path.join(project.dir, "seen.txt"))).toBe(false);
    expect(fs.existsSync(lanes(project))).toBe(false);
  });

  it("gives two sub-projects of one repository with the same workstream id their own branch and worktree", async () => {
    const project = gitProject([], {
      "a/value.txt": "from a\n",
      "b/value.txt": "from b\n",
      "a/workstreams/w.json": JSON.stringify({ id: "w", steps: [copyStep()] }),
      "b/workstreams/w.json": JSON.stringify({ id: "w", steps: [copyStep()] }),
    });
    for (const sub of ["a", "b"]) {
      const r = await wsc(project, ["--cwd", sub, "run", "--ws-id", "w"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`git merge ws/w@${sub}`);
    }
    expect(branches(project.dir)).toEqual(["main", "ws/w@a", "ws/w@b"]);
    expect(git(project.dir, "show", "ws/w@a:a/seen.txt")).toBe("from a");
    expect(git(project.dir, "show", "ws/w@b:b/seen.txt")).toBe("from b");
    // Cleaning one sub-project leaves the other's worktree and state alone.
    expect((await wsc(project, ["--cwd", "a", "clean", "--ws-id", "w", "--yes"])).code).toBe(0);
    expect(fs.existsSync(path.join(project.dir, "a/.worktrees/w"))).toBe(false);
    expect(fs.existsSync(lanes(project, "ws/w@a"))).toBe(false);
    expect(fs.existsSync(path.join(lanes(project, "ws/w@b"), "lane-1", "b", "seen.txt"))).toBe(true);
  });
});

describe("a race in a git worktree", () => {
  it("drops the losers' changes (kept as a patch) before the group's dependents start; only the winner's commit lands", async () => {
    const project = gitProject([
      {
        id: "race",
        step_groups: [{ id: "best", steps: ["fast", "slow"], succeed: "any", cancel_rest: true }],
        steps: [
          // fast passes only once slow has written its half-done file (in its own worktree, then
          // says so through $MARK): the loser has something to drop.
          { id: "fast", run: 'while [ ! -f "$MARK" ]; do sleep 0.05; done; echo fast > fast.txt', file_scope: ["fast.txt"] },
          { id: "slow", run: 'echo partial > slow.txt; touch "$MARK"; sleep 60', file_scope: ["slow.txt"] },
          { id: "after", run: "ls > listing.txt", depends_on: ["best"], file_scope: ["listing.txt"] },
        ],
      },
    ]);
    const r = await wsc(project, ["run", "race"], { MARK: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-mark-")), "slow-wrote") });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(git(project.dir, "show", "ws/race:listing.txt").split("\n")).not.toContain("slow.txt");
    expect(git(project.dir, "ls-tree", "--name-only", "ws/race")).not.toContain("slow.txt");
    expect(git(project.dir, "log", "--format=%s", "ws/race")).not.toContain("ws(slow)");
    const patch = path.join(project.state("race"), "steps", "slow", "attempt-1.lost-race.patch");
    expect(fs.readFileSync(patch, "utf8")).toContain("+partial");
    expect(r.stdout).toMatch(/slow .*lost_race: its changes were discarded: slow\.txt/);
  });
});

describe.concurrent("ws run through a symlinked path", () => {
  it("names the sub-project's branch and its folder in the worktree from the real path", async () => {
    const project = gitProject([], { "a/value.txt": "from a\n", "a/workstreams/w.json": JSON.stringify({ id: "w", steps: [copyStep()] }) });
    const link = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-link-")), "project");
    fs.symlinkSync(project.dir, link);
    const r = await wsc(project, ["--cwd", path.join(link, "a"), "run", "--ws-id", "w"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(branches(project.dir)).toEqual(["main", "ws/w@a"]);
    expect(git(project.dir, "show", "ws/w@a:a/seen.txt")).toBe("from a");
    fs.rmSync(path.dirname(link), { recursive: true, force: true });
  });
});

describe.concurrent("ws run in place", () => {
  it("refuses --base (exit 2) and warns that the worktree setting has nothing to act on", async () => {
    const project = makeProject([{ id: "w", worktree: { link: ["deps"] }, steps: [{ id: "s", tool: "shell", run: "true" }] }]);
    const bad = await wsc(project, ["run", "--ws-id", "w", "--base", "HEAD"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--base HEAD needs a worktree, but this run happens in place");
    const r = await wsc(project, ["run", "--ws-id", "w"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the "worktree" setting is ignored: the steps run in place');
  });
});

describe.concurrent("ws clean", () => {
  it("removes the worktree, the state folder and the backup branches, keeps ws/<id>, and asks for --yes without a terminal", async () => {
    const project = gitProject([{ id: "w", steps: [copyStep()] }], { "value.txt": "v\n" });
    expect((await wsc(project, ["run", "--ws-id", "w"])).code).toBe(0);
    // A commit made by hand on the run's branch: the next run keeps it on a backup branch.
    const byHand = git(project.dir, "commit-tree", "ws/w^{tree}", "-p", "ws/w", "-m", "by hand");
    git(project.dir, "update-ref", "refs/heads/ws/w", byHand);
    const tree = lanes(project);
    expect((await wsc(project, ["run", "--ws-id", "w"])).code).toBe(0);
    const backup = branches(project.dir).find((b) => b.startsWith("ws/w-"));
    expect(backup).toMatch(/^ws\/w-\d{8}-\d{6}$/);

    // The lane's base is pinned in the user's repository (issue 31), under a ref that is no branch.
    expect(git(project.dir, "for-each-ref", "--format=%(refname)", "refs/ws-pins/")).toBe("refs/ws-pins/w/lane-1");

    const asked = await wsc(project, ["clean", "--ws-id", "w"]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain("fix: run it again with --yes: ws clean --ws-id w --yes");
    expect(fs.existsSync(tree)).toBe(true);

    const r = await wsc(project, ["clean", "--ws-id", "w", "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed the backup branch ${backup}`);
    expect(r.stdout).toContain("kept branch ws/w");
    expect(fs.existsSync(project.state("w"))).toBe(false);
    expect(branches(project.dir)).toEqual(["main", "ws/w"]);
    expect(git(project.dir, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "))).toHaveLength(1);
    expect(git(project.dir, "for-each-ref", "refs/ws-pins/")).toBe("");
    expect(fs.existsSync(tree)).toBe(false);
    expect((await wsc(project, ["clean", "--ws-id", "w", "--yes"])).stdout).toContain("nothing to clean for w");
    // A later run starts again from scratch.
    expect((await wsc(project, ["run", "--ws-id", "w"])).code).toBe(0);
  });

  it("asks in a terminal: no keeps everything, yes removes", async () => {
    const project = gitProject([{ id: "w", steps: [copyStep()] }], { "value.txt": "v\n" });
    expect((await wsc(project, ["run", "--ws-id", "w"])).code).toBe(0);
    // script(1) (util-linux) gives ws a pseudo-terminal and types the answer.
    const inTerminal = (answer: string) =>
      spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} clean --ws-id w`, "/dev/null"], {
        cwd: project.dir,
        input: `${answer}\n`,
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: process.env.HOME, WS_WORKTREES_DIR: process.env.WS_WORKTREES_DIR },
        timeout: 30_000,
      });
    const no = inTerminal("n");
    expect(no.status).toBe(0);
    expect(no.stdout).toContain("remove them? [y/N]");
    expect(no.stdout).toContain("nothing removed");
    expect(fs.existsSync(project.state("w"))).toBe(true);
    const yes = inTerminal("y");
    expect(yes.status).toBe(0);
    expect(yes.stdout).toContain(`removed the worktrees of its steps in ${lanes(project)}`);
    expect(fs.existsSync(lanes(project))).toBe(false);
    expect(fs.existsSync(project.state("w"))).toBe(false);
  });

  it("refuses (exit 3) while a run holds the lock, and removes nothing", async () => {
    const project = gitProject([{ id: "w", steps: [{ id: "wait", tool: "shell", run: "sleep 30" }] }]);
    const running = wsAsync(project, ["run", "--ws-id", "w"]);
    await waitFor("the run's step to start", () => fs.existsSync(path.join(project.state("w"), "steps", "wait")));
    const r = await wsc(project, ["clean", "--ws-id", "w", "--yes"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("a run of w is in progress");
    expect(fs.existsSync(path.join(lanes(project), "lane-1"))).toBe(true);
    running.child.kill("SIGTERM");
    await running.done;
  });

  it("rejects an id that could point outside .worktrees", async () => {
    const project = gitProject([]);
    const r = await wsc(project, ["clean", "--ws-id", "../x", "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid workstream id "../x"');
  });
});



