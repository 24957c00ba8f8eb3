import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  cleanup,
  gone,
  groupSurvivors,
  makeProject,
  readEvents,
  readRecord,
  readState,
  recStep,
  waitFor,
  writeWorkstream,
  ws,
  wsAsync,
  type EventLine,
  type Project,
  type RecordLine,
} from "./rig.js";

// Signals, crashes and the lock: ws is signalled or killed once the run has reached a recorded
// event or marker, never after a delay, and no step has a timeout, so these run beside the other
// files (the step timeouts, which a loaded machine could outrun, are in signals.test.ts).
// "No survivors" is checked by pid and by process group (from /proc), after ws has exited; the
// waits are safety nets for asynchronous reaping.

afterEach(cleanup);

const starts = (lines: RecordLine[], id: string) => lines.filter((l) => l.id === id && l.event === "start");

function eventsSoFar(p: Project, wsId: string): EventLine[] {
  try {
    return readEvents(p, wsId);
  } catch {
    return []; // not created yet, or a line being written: ask again
  }
}

const passedEvent = (p: Project, wsId: string, step: string) => () =>
  eventsSoFar(p, wsId).some((e) => e.type === "step-end" && e.step === step && e.state === "passed");
const recorded = (p: Project, id: string, event: RecordLine["event"]) => () => readRecord(p).find((l) => l.id === id && l.event === event);

/** a passes at once, b waits for the file "go" (with a grandchild), c needs b. */
function interruptible(p: Project, id: string): object {
  return {
    id,
    execution: { max_workers: 2 },
    steps: [recStep("a"), recStep("b", ["--grandchild", "--wait-file", path.join(p.dir, "go")]), recStep("c", [], { depends_on: ["b"] })],
  };
}

function makeInterruptible(id: string): Project {
  const p = makeProject([]);
  fs.mkdirSync(path.join(p.dir, "workstreams"));
  fs.writeFileSync(path.join(p.dir, "workstreams", `${id}.json`), JSON.stringify(interruptible(p, id), null, 2));
  return p;
}

describe("ws run: signals", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal} → exit ${code}: running steps killed (group too), state saved, --resume finishes without re-running passed steps`, async () => {
      const p = makeInterruptible("sig");
      const run = wsAsync(p, ["run", "--ws-id", "sig"]);
      await waitFor("a passed", passedEvent(p, "sig", "a"));
      const b = await waitFor("b's grandchild", recorded(p, "b", "grandchild"));
      process.kill(run.pid, signal);
      const r = await run.done;
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(`${signal} received`);
      expect(r.stderr).toContain("ws run --ws-id sig --resume");

      expect(await gone(b.pid)).toBe(true);
      expect(await gone(b.child!)).toBe(true);
      expect(await groupSurvivors(b.pgid)).toEqual([]);

      const state = readState(p, "sig");
      expect({ status: state.status, exitCode: state.exitCode }).toEqual({ status: "cancelled", exitCode: code });
      expect(state.steps.a).toMatchObject({ state: "passed" });
      expect(state.steps.b).toMatchObject({ state: "cancelled", reason: "cancelled" });
      expect(state.steps.c).toMatchObject({ state: "cancelled", attempts: 0 });
      expect(readEvents(p, "sig").at(-1)).toMatchObject({ type: "run-end", outcome: "cancelled", exitCode: code });
      expect(fs.existsSync(path.join(p.state("sig"), "lock"))).toBe(false);

      fs.writeFileSync(path.join(p.dir, "go"), "");
      const resumed = ws(p, ["run", "--ws-id", "sig", "--resume"]);
      expect(resumed.code).toBe(0);
      const lines = readRecord(p);
      expect(starts(lines, "a")).toHaveLength(1);
      expect(starts(lines, "b").map((l) => l.n)).toEqual([1, 2]);
      expect(starts(lines, "c")).toHaveLength(1);
      expect(Object.values(readState(p, "sig").steps).map((s) => s.state)).toEqual(["passed", "passed", "passed"]);
    });
  }

  it("an attempt cut short by Ctrl-C spends no retry: after --resume the step has all its attempts, and the interrupted one is counted apart", async () => {
    const p = makeProject([]);
    const go = path.join(p.dir, "go");
    // Invocation 1 waits for "go" (and is interrupted); 2 fails; 3 passes: retries 1 is just enough, unless 1 counted.
    writeWorkstream(p.dir, { id: "cut", steps: [recStep("flaky", ["--wait-file", go, "--fail-first", 2], { retries: 1 })] });
    const run = wsAsync(p, ["run", "--ws-id", "cut"]);
    await waitFor("flaky started", recorded(p, "flaky", "start"));
    process.kill(run.pid, "SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain("cancelled flaky (cancelled) after 1 interrupted attempt");
    expect(r.stdout).toMatch(/│ flaky +│ ■ cancelled +│ 1 interrupted +│/);
    expect(readState(p, "cut").steps.flaky).toMatchObject({ state: "cancelled", attempts: 1, interrupted: 1 });

    fs.writeFileSync(go, "");
    const resumed = ws(p, ["run", "--ws-id", "cut", "--resume"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(starts(readRecord(p), "flaky").map((l) => l.n)).toEqual([1, 2, 3]);
    // Logs keep their numbers (none is overwritten); the count says 2 tries, not 3 failures.
    expect(resumed.stdout).toContain("start  flaky (attempt 3, shell)");
    expect(resumed.stdout).toContain("passed flaky after 2 attempts and 1 interrupted");
    expect(readState(p, "cut").steps.flaky).toMatchObject({ state: "passed", attempts: 3, interrupted: 1 });
    const status = ws(p, ["status", "--ws-id", "cut"]);
    expect(status.stdout).toMatch(/│ flaky +│ ✔ passed +│ 2 \+1 interrupted +│/);
    expect(fs.readdirSync(path.join(p.state("cut"), "steps", "flaky")).filter((f) => f.endsWith(".log")).sort()).toEqual(["attempt-1.log", "attempt-2.log", "attempt-3.log"]);
  });

  it("kill -9 of ws, then --resume takes over the stale lock and finishes without re-running passed steps", async () => {
    const p = makeInterruptible("crash");
    const run = wsAsync(p, ["run", "--ws-id", "crash"]);
    await waitFor("a passed", passedEvent(p, "crash", "a"));
    const b = await waitFor("b's grandchild", recorded(p, "b", "grandchild"));
    process.kill(run.pid, "SIGKILL");
    expect((await run.done).signal).toBe("SIGKILL");
    // ws could not clean up: its lock is still there. The spawn server kills its jobs' groups when
    // ws dies (with WS_SPAWN=direct the orphaned step lives on until the next run reaps it).
    expect(fs.existsSync(path.join(p.state("crash"), "lock"))).toBe(true);
    try {
      process.kill(-b.pgid, "SIGKILL");
    } catch {
      // gone already
    }
    expect(await groupSurvivors(b.pgid)).toEqual([]);

    const status = ws(p, ["status", "--ws-id", "crash", "--json"]);
    expect(status.code).toBe(0);
    // The step that ws was running is not running any more: status says it was interrupted.
    expect(JSON.parse(status.stdout)).toMatchObject({ status: "running", interrupted: true, steps: { a: { state: "passed" }, b: { state: "cancelled", interrupted: 1, detail: "interrupted (ws is gone)" } } });

    fs.writeFileSync(path.join(p.dir, "go"), "");
    const resumed = ws(p, ["run", "--ws-id", "crash", "--resume"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const lines = readRecord(p);
    expect(starts(lines, "a")).toHaveLength(1);
    expect(starts(lines, "b")).toHaveLength(2);
    expect(starts(lines, "c")).toHaveLength(1);
    const runStarts = readEvents(p, "crash").filter((e) => e.type === "run-start");
    expect(runStarts.map((e) => [e.resume, e.selected])).toEqual([
      [false, ["a", "b", "c"]],
      [true, ["b", "c"]],
    ]);
    expect(readState(p, "crash")).toMatchObject({ status: "passed", exitCode: 0 });
    // The attempt ws died in reached no outcome: it is counted apart, not as a try.
    expect(readState(p, "crash").steps.b).toMatchObject({ state: "passed", attempts: 2, interrupted: 1 });
    expect(fs.existsSync(path.join(p.state("crash"), "lock"))).toBe(false);
  });

  it("a torn last line in events.jsonl (a crash mid-write) is ignored by status and --resume", () => {
    const p = makeProject([{ id: "torn", steps: [recStep("good"), recStep("bad", ["--fail-first", 1])] }]);
    expect(ws(p, ["run", "--ws-id", "torn"]).code).toBe(1);
    const file = path.join(p.state("torn"), "events.jsonl");
    fs.appendFileSync(file, '{"type":"step-start","at":"2025-01-01T00:00:00.000Z","step":"go');

    const status = ws(p, ["status", "--ws-id", "torn", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: "failed", steps: { good: { state: "passed" }, bad: { state: "failed" } } });

    const resumed = ws(p, ["run", "--ws-id", "torn", "--resume"]);
    expect(resumed.code).toBe(0);
    expect(starts(readRecord(p), "good")).toHaveLength(1);
    expect(starts(readRecord(p), "bad")).toHaveLength(2);
    // The torn fragment stays alone on its line; every other line is a whole event.
    const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
    const broken = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toEqual(['{"type":"step-start","at":"2025-01-01T00:00:00.000Z","step":"go']);
    expect(readState(p, "torn")).toMatchObject({ status: "passed" });
  });
});

describe("ws run: the lock", () => {
  it("a second run of the same workstream exits 3 naming the holder; the first is unaffected", async () => {
    const p = makeInterruptible("locked");
    const first = wsAsync(p, ["run", "--ws-id", "locked"]);
    await waitFor("b started", recorded(p, "b", "grandchild"));
    const second = ws(p, ["run", "--ws-id", "locked"]);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`another run of locked is in progress (pid ${first.pid}`);
    expect(second.stderr).toContain(".worktrees/locked/lock");
    // --resume is refused the same way.
    expect(ws(p, ["run", "--ws-id", "locked", "--resume"]).code).toBe(3);
    expect(readRecord(p).filter((l) => l.event === "start")).toHaveLength(2);

    fs.writeFileSync(path.join(p.dir, "go"), "");
    const r = await first.done;
    expect(r.code).toBe(0);
    expect(readRecord(p).filter((l) => l.event === "start").map((l) => l.id).sort()).toEqual(["a", "b", "c"]);
  });
});
