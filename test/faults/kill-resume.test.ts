import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  counts,
  events,
  go,
  isGone,
  killGroupQuietly,
  killRunning,
  passedSteps,
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
  type RecordedPid,
} from "./helpers.js";

/**
 * kill -9 of ws at known points of a run, then `ws run --resume`: every step ends passed, no step
 * that had passed runs again, and no process is left behind.
 *
 * Every step is test/fixtures/faults/step.sh: it records its invocation and pids, touches
 * `started-<name>-<n>` and waits for `go-<name>-<n>`, so the test knows exactly where the run is
 * when it kills (no sleeps, no timing). The recovery run gets FAULT_FREE=1 so it goes straight
 * through.
 *
 * A kill -9 gives ws no chance to kill the process group of a step that is mid-attempt; the
 * recovery run reaps those groups (recorded under .worktrees/<id>/groups) before it starts
 * anything. So after recovery no process any run started may be alive. The test still kills
 * whatever it saw left behind, as a safety net for the machine when an assertion fails.
 */

const ID = "kill";
const WORKSTREAM = {
  id: ID,
  // A huge gap between two step starts holds the run between steps, deterministically, when set.
  execution: { max_workers: 2, rate_limit_delay: "${env.FAULT_GAP:-0}" },
  steps: [
    { id: "a", run: step("a"), acceptance_tests: [step("a-test")] },
    { id: "b", run: step("b"), depends_on: ["a"] },
    // Fails its first attempt (leaving c-ok), passes its retry.
    { id: "c", run: `${step("c")} && { test -f c-ok || { touch c-ok; exit 1; }; }`, depends_on: ["a"], retries: 1 },
    { id: "d", run: step("d"), depends_on: ["b", "c"], acceptance_tests: [step("d-test")] },
  ],
};
const STEPS = ["a", "b", "c", "d"];
/** The acceptance test names that belong to a step: they must not run again either once it passed. */
const TESTS: Record<string, string[]> = { a: ["a-test"], d: ["d-test"] };

interface Rig {
  dir: string;
  /** Start `ws run` (with --resume if asked) in the background. */
  start(opts?: { resume?: boolean; env?: NodeJS.ProcessEnv }): Running;
  /** kill -9, and note which recorded processes the dead ws left behind. */
  kill9(run: Running): Promise<void>;
}

interface KillPoint {
  name: string;
  interrupt(rig: Rig): Promise<void>;
  /** Damage done after the kill (what a crash mid-write could leave). */
  afterKill?(dir: string): void;
}

/** Poll without sleeping, for the narrow window right after an event is written. */
function spinUntil(probe: () => boolean): void {
  const limit = Date.now() + 60_000; // safety net only
  while (!probe()) if (Date.now() > limit) throw new Error("spinUntil: gave up");
}

const hasStepEnd = (dir: string, stepId: string) => events(dir, ID).some((e) => e.type === "step-end" && e.step === stepId);

const POINTS: KillPoint[] = [
  {
    name: "1. before anything is on disk (killed right after spawn)",
    async interrupt(rig) {
      await rig.kill9(rig.start());
    },
  },
  {
    name: "2. at run-start, before or as the first step starts",
    async interrupt(rig) {
      const run = rig.start();
      await waitEvent(rig.dir, ID, (e) => e.type === "run-start");
      await rig.kill9(run);
    },
  },
  {
    name: "3. mid-attempt of the first step",
    async interrupt(rig) {
      const run = rig.start();
      await waitStarted(rig.dir, "a-1");
      await rig.kill9(run);
    },
  },
  {
    name: "4. during an acceptance test",
    async interrupt(rig) {
      const run = rig.start();
      go(rig.dir, "a-1");
      await waitStarted(rig.dir, "a-test-1");
      await rig.kill9(run);
    },
  },
  {
    name: "5. between steps (a passed, the rate-limit gap holds b and c)",
    async interrupt(rig) {
      const run = rig.start({ env: { FAULT_GAP: "3600" } });
      go(rig.dir, "a-1", "a-test-1");
      await waitEvent(rig.dir, ID, (e) => e.type === "step-end" && e.step === "a" && e.state === "passed");
      await rig.kill9(run);
      expect(counts(rig.dir).b).toBeUndefined();
      expect(counts(rig.dir).c).toBeUndefined();
    },
  },
  {
    name: "6. two steps mid-attempt in parallel",
    async interrupt(rig) {
      const run = rig.start();
      go(rig.dir, "a-1", "a-test-1");
      await waitStarted(rig.dir, "b-1", "c-1");
      await rig.kill9(run);
    },
  },
  {
    name: "7. one parallel step passed, the other in its retry",
    async interrupt(rig) {
      const run = rig.start();
      go(rig.dir, "a-1", "a-test-1", "b-1", "c-1");
      await waitStarted(rig.dir, "c-2");
      await waitEvent(rig.dir, ID, (e) => e.type === "step-end" && e.step === "b");
      await rig.kill9(run);
    },
  },
  {
    name: "8. while writing state: the instant a step-end reaches events.jsonl",
    async interrupt(rig) {
      // The closest real point to "mid-write" without a test hook in the engine: the snapshot
      // (state.json) and orchestrator.log are written right after this event line.
      const run = rig.start();
      await waitStarted(rig.dir, "a-1");
      go(rig.dir, "a-1", "a-test-1");
      spinUntil(() => hasStepEnd(rig.dir, "a"));
      await rig.kill9(run);
    },
  },
  {
    name: "9. a torn event line, a half-written state.json and a stray temp file",
    async interrupt(rig) {
      const run = rig.start();
      go(rig.dir, "a-1", "a-test-1");
      await waitStarted(rig.dir, "b-1", "c-1");
      await rig.kill9(run);
    },
    afterKill(dir) {
      // What a crash in the middle of writes would leave if they were not append-only/atomic;
      // state.json is made the newer file, so the loader must notice it is unreadable.
      const root = stateDir(dir, ID);
      fs.appendFileSync(path.join(root, "events.jsonl"), '{"type":"step-end","at":"2026-01-01T00:00:00.000Z","step":"b","sta');
      const state = fs.readFileSync(path.join(root, "state.json"), "utf8");
      fs.writeFileSync(path.join(root, "state.json.4242424242"), state.slice(0, 10));
      fs.writeFileSync(path.join(root, "state.json"), state.slice(0, Math.floor(state.length / 2)));
      const future = new Date(Date.now() + 5000);
      fs.utimesSync(path.join(root, "state.json"), future, future);
      const st = status(dir, ID);
      expect(st.interrupted).toBe(true);
      expect(st.steps.a?.state).toBe("passed");
    },
  },
  {
    name: "10. the last step's acceptance test",
    async interrupt(rig) {
      const run = rig.start();
      go(rig.dir, "a-1", "a-test-1", "b-1", "c-1", "c-2", "d-1");
      await waitStarted(rig.dir, "d-test-1");
      await rig.kill9(run);
    },
  },
  {
    name: "11. after the last step-end, around run-end",
    async interrupt(rig) {
      const run = rig.start({ env: { FAULT_FREE: "1" } });
      // Spin, not a polling sleep: ws ends the run moments after d's step-end, and a kill that
      // comes after its exit finds nothing to kill (the run then exited 0: failed once that way).
      spinUntil(() => hasStepEnd(rig.dir, "d"));
      await rig.kill9(run);
    },
  },
  {
    name: "12. a resumed run killed again mid-attempt",
    async interrupt(rig) {
      const first = rig.start();
      await waitStarted(rig.dir, "a-1");
      await rig.kill9(first);
      const second = rig.start({ resume: true });
      go(rig.dir, "a-2", "a-test-1", "c-1");
      await waitStarted(rig.dir, "b-1", "c-2");
      await rig.kill9(second);
    },
  },
];

afterEach(async () => {
  await killRunning();
});
afterAll(() => removeProjects());

describe("kill -9 of ws, then --resume", () => {
  it("--resume with no run to resume is a clear usage error", () => {
    const dir = project([WORKSTREAM]);
    const r = ws(["run", "--ws-id", ID, "--resume"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`there is no run of ${ID} to resume`);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it.each(POINTS)("$name", async (point) => {
    const dir = project([WORKSTREAM]);
    const leftBehind: RecordedPid[] = [];
    const rig: Rig = {
      dir,
      start: (opts = {}) => new Running(["run", "--ws-id", ID, ...(opts.resume ? ["--resume"] : [])], dir, opts.env),
      async kill9(run) {
        const done = await run.kill("SIGKILL");
        expect(done.signal).toBe("SIGKILL");
        leftBehind.push(...recordedPids(dir).filter((p) => !isGone(p.pid)));
      },
    };
    try {
      await point.interrupt(rig);
      const passedBefore = passedSteps(dir, ID);
      const countsBefore = counts(dir);
      const hasRun = fs.existsSync(path.join(stateDir(dir, ID), "events.jsonl")) && events(dir, ID).some((e) => e.type === "run-start");
      if (hasRun) {
        const ended = events(dir, ID).some((e) => e.type === "run-end");
        expect(status(dir, ID).interrupted).toBe(!ended);
      }
      point.afterKill?.(dir);

      // A killed run leaves a lock with a dead pid: the recovery run must take it over.
      const recovery = ws(["run", "--ws-id", ID, ...(hasRun ? ["--resume"] : [])], dir, { FAULT_FREE: "1" });
      expect(recovery.code, recovery.stdout + recovery.stderr).toBe(0);
      expect(recovery.stderr).not.toMatch(STACK_LINE);

      const st = status(dir, ID);
      expect(st.status).toBe("passed");
      expect(st.interrupted).toBe(false);
      for (const id of STEPS) expect(st.steps[id]?.state, id).toBe("passed");

      const after = counts(dir);
      for (const id of passedBefore) {
        for (const name of [id, ...(TESTS[id] ?? [])]) expect(after[name], `${name} had passed before the kill`).toBe(countsBefore[name]);
      }
      for (const name of [...STEPS, "a-test", "d-test"]) expect(after[name] ?? 0, name).toBeGreaterThanOrEqual(1);

      const alive = await survivors(recordedPids(dir));
      expect(alive, "processes ws started (the killed run's included) and should have ended").toEqual([]);
    } finally {
      for (const p of leftBehind) killGroupQuietly(p.pid);
    }
  });
});
