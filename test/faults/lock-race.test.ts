import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, it } from "vitest";
import { tempProject } from "../helpers/cli.js";
import { events, go, killRunning, project, removeProjects, Running, STEP, stateDir, waitStarted, ws } from "./helpers.js";

/**
 * The run lock under a race and after a crash: two `ws run` of one workstream started at the
 * same instant give exactly one exit 3 and one exit 0, the loser leaving nothing the winner could
 * take for a change; a stale lock with the takeover guard of a taker that died mid-takeover is
 * taken over, not reported as a run in progress.
 */

const ID = "race";

afterEach(async () => {
  await killRunning();
});
afterAll(() => removeProjects());

function git(dir: string, ...args: string[]): string {
  const r = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A git project whose one step, in worktree isolation, waits for its go marker. The step works in
 * `markers`, outside the project: the markers are the test's, not changes of the run.
 */
function gitProject(markers: string): string {
  const dir = project([
    { id: ID, execution: { isolation: "worktree" }, steps: [{ id: "a", run: `cd '${markers}' && sh '${STEP}' a`, file_scope: ["a.txt"] }] },
  ]);
  fs.writeFileSync(path.join(dir, "README.md"), "hello\n");
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "start");
  return dir;
}

/** What a run can see of the repository besides its own branch and tree (read without taking the index lock). */
function repoView(dir: string): string {
  return [git(dir, "--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all", "--ignored"), git(dir, "worktree", "list", "--porcelain"), git(dir, "for-each-ref")].join("\n--\n");
}

describe("two runs of one workstream at the same instant (worktree isolation)", () => {
  it.for([1, 2, 3])("trial %i: one exits 3 and leaves nothing behind, the other passes with exit 0", async (_trial, { expect }) => {
    const markers = tempProject("ws-faults-markers-");
    const dir = gitProject(markers);
    const runs = [new Running(["run", ID], dir), new Running(["run", ID], dir)];
    // The winner holds its step at the go marker, so the first to end is the loser.
    const first = await Promise.race(runs.map((run, i) => run.done.then((done) => ({ i, done }))));
    expect(first.done.code, first.done.stdout + first.done.stderr).toBe(3);
    expect(first.done.stderr).toMatch(/another run of race is in progress/);
    const winner = runs[1 - first.i]!;

    // A third run while the winner's step runs: everything it does happens after the winner's
    // baseline of the checkout and the git dir, the moment the winner's guard would see it.
    await waitStarted(markers, "a-1");
    const before = repoView(dir);
    const locks = () => fs.readdirSync(stateDir(dir, ID)).filter((name) => name.startsWith("lock"));
    expect(locks()).toEqual(["lock"]);
    const third = ws(["run", ID], dir);
    expect(third.code, third.stdout + third.stderr).toBe(3);
    expect(repoView(dir)).toBe(before);
    expect(locks()).toEqual(["lock"]);

    go(markers, "a-1");
    const won = await winner.done;
    expect(won.code, won.stdout + won.stderr).toBe(0);
    expect(events(dir, ID).filter((e) => e.type === "run-start")).toHaveLength(1);
    expect(events(dir, ID).filter((e) => e.type === "step-end").map((e) => `${e.step} ${e.state}`)).toEqual(["a passed"]);
    // The lock is released and no temp file of a lock or its guard is left.
    expect(locks()).toEqual([]);
    expect(git(dir, "--no-optional-locks", "status", "--porcelain")).toBe("");
  });
});

describe("a stale lock and the takeover guard of a taker that died mid-takeover", () => {
  /** A pid that was just used and is dead now. */
  const deadPid = () => Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
  const holder = (pid: number) => JSON.stringify({ pid, startedAt: new Date(Date.now() - 60_000).toISOString(), host: os.hostname() });

  it.for([
    ["an empty guard folder made just now", (guard: string) => fs.mkdirSync(guard)],
    ["a guard folder whose owner is dead", (guard: string) => (fs.mkdirSync(guard), fs.writeFileSync(path.join(guard, "owner"), holder(deadPid())))],
    ["a guard file whose owner is dead", (guard: string) => fs.writeFileSync(guard, holder(deadPid()))],
    ["a guard file cut short", (guard: string) => fs.writeFileSync(guard, '{"pid": 12')],
  ] as const)("%s: the run proceeds, exit 0", ([, leave], { expect }) => {
    const dir = project([{ id: ID, execution: { isolation: "none" }, steps: [{ id: "a", run: "echo a" }] }]);
    const lock = path.join(stateDir(dir, ID), "lock");
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, holder(deadPid()));
    leave(`${lock}.takeover`);
    const r = ws(["run", ID], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(events(dir, ID).filter((e) => e.type === "step-end").map((e) => `${e.step} ${e.state}`)).toEqual(["a passed"]);
    expect(fs.readdirSync(stateDir(dir, ID)).filter((name) => name.startsWith("lock"))).toEqual([]);
  });
});
