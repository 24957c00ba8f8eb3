import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  counts,
  events,
  go,
  killRunning,
  project,
  recordedPids,
  removeProjects,
  Running,
  STACK_LINE,
  stateDir,
  status,
  step,
  survivors,
  waitEvent,
  waitStarted,
  ws,
} from "./helpers.js";

/**
 * Disk trouble in the state folder: a clear error (exit 2, the path, a fix, no stack trace), never
 * a half-written state.json, no process left behind, the lock released, and a resume that works
 * once the trouble is gone.
 *
 * ws runs as root here, so permissions cannot make a folder read-only, and mounting a small
 * tmpfs or loop device is not possible either. What is simulated instead:
 * - "cannot create/write": a file where a folder must be, or a folder where a file must be;
 * - "disk full": the file symlinked to /dev/full, whose every write fails with ENOSPC (a real
 *   ENOSPC from the kernel, through the same write calls ws uses).
 */

const ID = "disk";
const WORKSTREAM = {
  id: ID,
  execution: { max_workers: 2 },
  steps: [
    { id: "a", run: step("a") },
    { id: "p", run: step("p") },
    { id: "b", run: step("b"), depends_on: ["a"] },
  ],
};

afterEach(async () => {
  await killRunning();
});
afterAll(() => removeProjects());

const root = (dir: string) => stateDir(dir, ID);

/** state.json, if it is a file, is whole JSON; no temp file of an atomic write is left over. */
function expectNoHalfWrittenState(dir: string): void {
  const file = path.join(root(dir), "state.json");
  if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) expect(() => JSON.parse(fs.readFileSync(file, "utf8")) as unknown).not.toThrow();
  if (fs.existsSync(root(dir))) expect(fs.readdirSync(root(dir)).filter((n) => /^state\.json\.\d+$/.test(n))).toEqual([]);
}

function expectClearError(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr + r.stdout).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toContain("internal error");
}

describe("the state folder cannot be created", () => {
  it("a file where .worktrees/<id> must be: exit 2 naming it, the file untouched", () => {
    const dir = project([WORKSTREAM]);
    fs.mkdirSync(path.join(dir, ".worktrees"));
    fs.writeFileSync(root(dir), "not a folder\n");
    const r = ws(["run", "--ws-id", ID, "--quiet"], dir, { FAULT_FREE: "1" });
    expectClearError(r, /cannot .*\.worktrees\/disk/);
    expect(r.stderr).toContain("fix:");
    expect(fs.readFileSync(root(dir), "utf8")).toBe("not a folder\n");
    expect(counts(dir)).toEqual({});
  });

  it("a file where .worktrees must be: exit 2, no step ran", () => {
    const dir = project([WORKSTREAM]);
    fs.writeFileSync(path.join(dir, ".worktrees"), "");
    const r = ws(["run", "--ws-id", ID], dir, { FAULT_FREE: "1" });
    expectClearError(r, /cannot .*\.worktrees\/disk.*ENOTDIR/);
    expect(counts(dir)).toEqual({});
  });

  it("a folder where state.json must be: exit 2 before any step starts", () => {
    const dir = project([WORKSTREAM]);
    fs.mkdirSync(path.join(root(dir), "state.json"), { recursive: true });
    const r = ws(["run", "--ws-id", ID], dir, { FAULT_FREE: "1" });
    expectClearError(r, /cannot write the run state .*state\.json/);
    expect(counts(dir)).toEqual({});
    expectNoHalfWrittenState(dir);
    expect(fs.existsSync(path.join(root(dir), "lock")), "lock released").toBe(false);
  });
});

describe("history.json cannot be written", () => {
  it("a run whose steps passed still passes, says so in a warning, and ends cleanly", () => {
    const dir = project([WORKSTREAM]);
    fs.mkdirSync(path.join(root(dir), "history.json"), { recursive: true });
    const r = ws(["run", "--ws-id", ID], dir, { FAULT_FREE: "1" });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: durations not recorded: .*history\.json/);
    expect(status(dir, ID).status).toBe("passed");
    expect(events(dir, ID).at(-1)?.type).toBe("run-end");
  });
});

describe("disk full (ENOSPC through /dev/full)", () => {
  it.each(["events.jsonl", "orchestrator.log"])("on %s from the start: exit 2, no state.json, lock released", (name) => {
    const dir = project([WORKSTREAM]);
    fs.mkdirSync(root(dir), { recursive: true });
    fs.symlinkSync("/dev/full", path.join(root(dir), name));
    const r = ws(["run", "--ws-id", ID], dir, { FAULT_FREE: "1" });
    expectClearError(r, new RegExp(`cannot write the (event|run) log .*${name.replace(".", "\\.")}: ENOSPC`));
    expect(counts(dir)).toEqual({});
    expect(fs.existsSync(path.join(root(dir), "state.json"))).toBe(false);
    expect(fs.existsSync(path.join(root(dir), "lock")), "lock released").toBe(false);
    // The same clear error again, not "another run holds the lock" (exit 3).
    expectClearError(ws(["run", "--ws-id", ID], dir, { FAULT_FREE: "1" }), /ENOSPC/);
  });

  it("on a step's log mid-run: exit 2 naming the log, no orphan, and --resume works once it is fixed", async () => {
    const dir = project([WORKSTREAM]);
    const log = path.join(root(dir), "steps", "b", "attempt-1.log");
    // Set while the run goes (a fresh run clears the old logs of the steps it runs).
    const run = new Running(["run", "--ws-id", ID], dir);
    await waitStarted(dir, "a-1", "p-1");
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.symlinkSync("/dev/full", log);
    go(dir, "a-1", "p-1", "b-1");
    const r = await run.done;
    expectClearError(r, /cannot write the step log .*steps\/b\/attempt-1\.log: ENOSPC/);
    expectNoHalfWrittenState(dir);
    expect(await survivors(recordedPids(dir))).toEqual([]);
    expect(fs.existsSync(path.join(root(dir), "lock")), "lock released").toBe(false);

    fs.rmSync(log);
    const resumed = ws(["run", "--ws-id", ID, "--resume"], dir, { FAULT_FREE: "1" });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(counts(dir)).toMatchObject({ a: 1, p: 1 });
    expect(status(dir, ID).status).toBe("passed");
  });
});

describe("state.json becomes unwritable mid-run", () => {
  it("exit 2 with a clear error once running steps end; nothing half-written, no orphan; --resume works once fixed", async () => {
    const dir = project([WORKSTREAM]);
    const run = new Running(["run", "--ws-id", ID], dir);
    await waitStarted(dir, "a-1", "p-1");
    // A folder where the snapshot goes: its atomic rename now fails (EISDIR).
    const state = path.join(root(dir), "state.json");
    fs.rmSync(state);
    fs.mkdirSync(state);
    go(dir, "a-1", "b-1");
    await waitEvent(dir, ID, (e) => e.type === "step-end" && e.step === "a");
    go(dir, "p-1");
    const done = await run.done;
    expectClearError(done, /cannot write the run state .*state\.json/);
    expect(fs.statSync(state).isDirectory()).toBe(true);
    expectNoHalfWrittenState(dir);
    expect(await survivors(recordedPids(dir))).toEqual([]);
    expect(fs.existsSync(path.join(root(dir), "lock")), "lock released").toBe(false);
    expect(events(dir, ID).some((e) => e.type === "step-end" && e.step === "a" && e.state === "passed")).toBe(true);

    fs.rmdirSync(state);
    const resumed = ws(["run", "--ws-id", ID, "--resume"], dir, { FAULT_FREE: "1" });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(counts(dir).a, "a passed before the failure").toBe(1);
    expect(status(dir, ID).status).toBe("passed");
  });
});
