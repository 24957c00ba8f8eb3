import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lanesHome } from "../../src/git/lanes.js";
import { git } from "../git/make-repo.js";
import { cleanup, gitProject, wsc, type Project } from "./rig.js";

/**
 * Issue 33 (speed of a checks run): a second run of a clean checkout takes HEAD as its base and
 * the lanes of the last run as they are, with no snapshot and no checkout, and trusts a lane's
 * look only when the lane's git dir was as ws left it.
 */

afterAll(cleanup);

const lane = (project: Project, n: number) => path.join(lanesHome(fs.realpathSync(project.dir), "ws/w", process.env), `lane-${n}`);

/** The git subcommands a run started (GIT_TRACE2_EVENT), by name. */
function traced(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; argv?: string[] })
    .filter((e) => e.event === "start")
    .map((e) => (e.argv ?? []).slice(1).find((a, i, all) => a !== "-c" && all[i - 1] !== "-c") ?? "");
}

describe.concurrent("a run after a run", () => {
  it("in a clean checkout starts from HEAD with no snapshot, and takes its lanes with no checkout", async () => {
    const project = gitProject([{ id: "w", execution: { max_workers: 2 }, steps: [{ id: "a", run: "test -f README.md" }, { id: "b", run: "test -f README.md" }] }]);
    const first = await wsc(project, ["run", "w"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ws-trace-")), "trace.json");
    const second = await wsc(project, ["run", "w"], { GIT_TRACE2_EVENT: trace });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const events = fs.readFileSync(path.join(project.dir, ".worktrees", "w", "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; base?: { commit: string; uncommitted: number } });
    const start = events.findLast((e) => e.type === "run-start");
    expect(start?.base).toMatchObject({ commit: git(project.dir, "rev-parse", "HEAD"), uncommitted: 0 });
    const commands = traced(trace);
    for (const skipped of ["add", "write-tree", "checkout", "clean", "branch", "worktree"]) expect(commands, skipped).not.toContain(skipped);
    // The lanes were looked at (a clean look is what lets them be taken as they are).
    expect(commands).toContain("status");
  });

  it("a dirty checkout is still its base: an uncommitted edit and a new file reach the steps", async () => {
    const project = gitProject([{ id: "w", steps: [{ id: "a", run: "grep -q edited README.md && test -f new.txt" }] }]);
    expect((await wsc(project, ["run", "w"])).code).toBe(1);
    fs.appendFileSync(path.join(project.dir, "README.md"), "edited\n");
    fs.writeFileSync(path.join(project.dir, "new.txt"), "new\n");
    const r = await wsc(project, ["run", "w"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("does not trust a lane that an interrupted step hid a file in through its git dir's ignores: the file is kept as a patch and gone", async () => {
    const project = gitProject([{ id: "w", steps: [{ id: "a", run: "test ! -e planted.txt" }] }]);
    const first = await wsc(project, ["run", "w"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // What a step cut short by a kill -9 could leave: a file, and an exclude in the lane's own git dir that hides it from `git status`.
    fs.writeFileSync(path.join(lane(project, 1), "planted.txt"), "left\n");
    fs.appendFileSync(path.join(`${lane(project, 1)}.git`, "info", "exclude"), "planted.txt\n");
    const r = await wsc(project, ["run", "w"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(fs.existsSync(path.join(lane(project, 1), "planted.txt"))).toBe(false);
    const leftovers = path.join(project.dir, ".worktrees", "w", "leftovers");
    const patches = fs.readdirSync(leftovers).map((f) => fs.readFileSync(path.join(leftovers, f), "utf8"));
    expect(patches.join("\n")).toMatch(/planted\.txt/);
  });
});
