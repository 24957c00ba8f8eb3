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
  status,
  step,
  stateDir,
  survivors,
  waitFor,
  waitStarted,
  ws,
} from "./helpers.js";

/**
 * SIGINT / SIGTERM to ws mid-run: running steps are killed (whole groups, grandchildren too), the
 * state says `cancelled`, ws exits 130 / 143, and `--resume` finishes the work without re-running
 * what passed. Positions are reached through the step fixture's marker files, never by timing.
 */

const ID = "sig";
const WORKSTREAM = {
  id: ID,
  execution: { max_workers: 2 },
  steps: [
    { id: "a", run: step("a") },
    { id: "b", run: step("b"), depends_on: ["a"] },
    { id: "c", run: step("c"), depends_on: ["a"], acceptance_tests: [step("c-test")] },
    // Ignores SIGTERM (the disposition is inherited by step.sh and its grandchild): only the
    // SIGKILL after the grace period ends it.
    { id: "stubborn", run: `trap '' TERM; ${step("stubborn")}`, depends_on: ["a"] },
    { id: "d", run: step("d"), depends_on: ["b", "c", "stubborn"] },
  ],
};
const STEPS = WORKSTREAM.steps.map((s) => s.id);

afterEach(async () => {
  await killRunning();
});
afterAll(() => removeProjects());

async function resumeAndCheck(dir: string, passedBefore: string[]): Promise<void> {
  const before = counts(dir);
  const r = ws(["run", "--ws-id", ID, "--resume"], dir, { FAULT_FREE: "1" });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const st = status(dir, ID);
  expect(st.status).toBe("passed");
  for (const id of STEPS) expect(st.steps[id]?.state, id).toBe("passed");
  for (const id of passedBefore) expect(counts(dir)[id], `${id} passed before the signal`).toBe(before[id]);
  expect(await survivors(recordedPids(dir))).toEqual([]);
}

describe.each([
  { signal: "SIGINT" as const, code: 130 },
  { signal: "SIGTERM" as const, code: 143 },
])("$signal to ws mid-run", ({ signal, code }) => {
  it(`exits ${code}, kills every running group (one ignores SIGTERM), records cancelled; --resume finishes`, async () => {
    const dir = project([WORKSTREAM]);
    const run = new Running(["run", "--ws-id", ID, "--max-workers", "3"], dir);
    go(dir, "a-1", "c-1");
    // b and stubborn mid-attempt, c in its acceptance test, d waiting for them.
    await waitStarted(dir, "b-1", "c-test-1", "stubborn-1");
    const done = await run.kill(signal);

    expect(done.code, done.stdout + done.stderr).toBe(code);
    expect(done.stderr).toContain(`${signal} received`);
    expect(done.stderr).not.toMatch(STACK_LINE);
    expect(await survivors(recordedPids(dir))).toEqual([]);

    const st = status(dir, ID);
    expect(st.status).toBe("cancelled");
    expect(st.exitCode).toBe(code);
    expect(st.interrupted).toBe(false);
    expect(st.steps.a?.state).toBe("passed");
    for (const id of ["b", "c", "stubborn", "d"]) expect(st.steps[id]?.state, id).toBe("cancelled");
    const log = (stepId: string) => fs.readFileSync(path.join(stateDir(dir, ID), "steps", stepId, "attempt-1.log"), "utf8");
    expect(log("stubborn")).toMatch(/# \S+ cancelled after \S+ \(SIGTERM, then SIGKILL\)/);
    expect(log("b")).toMatch(/# \S+ cancelled after \S+ \(SIGTERM\)/);
    const runEnd = events(dir, ID).find((e) => e.type === "run-end");
    expect(runEnd).toMatchObject({ outcome: "cancelled", exitCode: code });

    await resumeAndCheck(dir, ["a"]);
  });
});

describe("a second SIGINT", () => {
  it("kills every group and still exits 130 with the state saved", async () => {
    const dir = project([
      { id: ID, steps: [{ id: "stubborn", run: `trap '' TERM; ${step("stubborn")}`, timeout: 0 }, { id: "after", run: step("after"), depends_on: ["stubborn"] }] },
    ]);
    const run = new Running(["run", "--ws-id", ID], dir);
    await waitStarted(dir, "stubborn-1");
    run.child.kill("SIGINT");
    // The first SIGINT is handled (the message is printed) before the second is sent.
    await waitFor(() => (run.output.includes("SIGINT received") ? true : undefined));
    const done = await run.kill("SIGINT");
    expect(done.code).toBe(130);
    expect(done.stderr).not.toMatch(STACK_LINE);
    expect(await survivors(recordedPids(dir))).toEqual([]);
    expect(status(dir, ID).steps.stubborn?.state).toBe("cancelled");
    const r = ws(["run", "--ws-id", ID, "--resume"], dir, { FAULT_FREE: "1" });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
