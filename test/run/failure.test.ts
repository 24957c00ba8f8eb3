import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gone, makeProject, readEvents, readRecord, readState, recStep, writeWorkstream, ws, type Project, type RecordLine } from "./rig.js";

afterEach(cleanup);

const started = (lines: RecordLine[]) => lines.filter((l) => l.event === "start").map((l) => l.id);
const events = (p: Project, wsId: string) => path.join(p.state(wsId), "events.jsonl");

describe("ws run: failure policies", () => {
  it("continue: a failed step blocks its transitive dependents, independent branches run; exit 1", () => {
    const p = makeProject([
      {
        id: "cont",
        execution: { on_failure: "continue", max_workers: 2 },
        steps: [
          recStep("bad", ["--exit", 4]),
          recStep("child", [], { depends_on: ["bad"] }),
          recStep("grandchild", [], { depends_on: ["child"] }),
          recStep("free"),
          recStep("free-next", [], { depends_on: ["free"] }),
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "cont"]);
    expect(r.code).toBe(1);
    expect(started(readRecord(p)).sort()).toEqual(["bad", "free", "free-next"]);
    const { steps, status, exitCode } = readState(p, "cont");
    expect({ status, exitCode }).toEqual({ status: "failed", exitCode: 1 });
    expect(steps.bad).toMatchObject({ state: "failed", reason: "exit:4", attempts: 1 });
    // The root cause is named, also two levels down.
    expect(steps.child).toMatchObject({ state: "blocked", reason: "blocked_by:bad", attempts: 0 });
    expect(steps.grandchild).toMatchObject({ state: "blocked", reason: "blocked_by:bad" });
    expect(steps["free-next"]).toMatchObject({ state: "passed" });
    expect(r.stdout).toMatch(/blocked\s+child \(blocked_by:bad\)/);
  });

  it("stop: nothing new starts after a failure, running steps finish; exit 1", () => {
    // Two workers: bad and slow start together (bad waits until both have); bad fails while slow
    // runs; queued never gets a worker before the failure and must then never start. slow ends
    // only once ws has recorded bad's end (not bad's own last line, which a loaded machine can
    // show slow before ws has seen bad exit).
    const p = makeProject([]);
    writeWorkstream(p.dir, {
      id: "stop",
      execution: { on_failure: "stop", max_workers: 2 },
      steps: [recStep("bad", ["--wait-starts", 2, "--exit", 1]), recStep("slow", ["--wait-step-end", "bad", events(p, "stop")]), recStep("queued")],
    });
    const r = ws(p, ["run", "--ws-id", "stop"]);
    expect(r.code).toBe(1);
    const lines = readRecord(p);
    expect(lines.filter((l) => l.event === "wait-timeout")).toEqual([]);
    expect(started(lines).sort()).toEqual(["bad", "slow"]);
    const { steps } = readState(p, "stop");
    expect(steps.bad).toMatchObject({ state: "failed" });
    expect(steps.slow).toMatchObject({ state: "passed" });
    expect(steps.queued).toMatchObject({ state: "cancelled", reason: "cancelled", attempts: 0 });
  });

  it("stop: a running step whose attempt fails after the stop gets no retry and ends cancelled, with its step-end", () => {
    // bad fails first; flaky's attempt fails afterwards (once ws has recorded bad's end) with a
    // retry left, which stop forbids.
    const p = makeProject([]);
    writeWorkstream(p.dir, {
      id: "stop-retry",
      execution: { on_failure: "stop", max_workers: 2 },
      steps: [recStep("bad", ["--exit", 1]), recStep("flaky", ["--wait-step-end", "bad", events(p, "stop-retry"), "--fail-first", 1], { retries: 1 })],
    });
    const r = ws(p, ["run", "--ws-id", "stop-retry"]);
    expect(r.code).toBe(1);
    expect(readRecord(p).filter((l) => l.event === "wait-timeout")).toEqual([]);
    expect(readRecord(p).filter((l) => l.id === "flaky" && l.event === "start")).toHaveLength(1);
    expect(readState(p, "stop-retry").steps.flaky).toMatchObject({ state: "cancelled", attempts: 1 });
    // Every step that started has a step-end: listeners (reports, progress counts) rely on it.
    const ends = readEvents(p, "stop-retry").filter((e) => e.type === "step-end").map((e) => e.step);
    expect(ends.sort()).toEqual(["bad", "flaky"]);
  });

  it("abort: a failure also kills running steps (their whole process group); exit 1", async () => {
    const p = makeProject([
      {
        id: "abort",
        execution: { on_failure: "abort", max_workers: 2 },
        // bad fails only once slow has started its grandchild, or the abort could come first.
        steps: [recStep("bad", ["--wait-starts", 2, "--wait-event", "grandchild", "--exit", 1]), recStep("slow", ["--grandchild", "--hang"]), recStep("queued")],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "abort"]);
    expect(r.code).toBe(1);
    const lines = readRecord(p);
    expect(started(lines).sort()).toEqual(["bad", "slow"]);
    const { steps } = readState(p, "abort");
    expect(steps.bad).toMatchObject({ state: "failed" });
    expect(steps.slow).toMatchObject({ state: "cancelled", reason: "cancelled", attempts: 1 });
    expect(steps.queued).toMatchObject({ state: "cancelled", attempts: 0 });
    const slow = lines.find((l) => l.id === "slow" && l.event === "start")!;
    const grandchild = lines.find((l) => l.event === "grandchild")!.child!;
    expect(await gone(slow.pid)).toBe(true);
    expect(await gone(grandchild)).toBe(true);
  });
});

describe("ws run: retries", () => {
  it("a failed attempt is retried; the step passes on a later attempt", () => {
    const p = makeProject([{ id: "flaky", steps: [recStep("flaky", ["--fail-first", 2, "--say", "hello"], { retries: 2 })] }]);
    const r = ws(p, ["run", "--ws-id", "flaky"]);
    expect(r.code).toBe(0);
    expect(readRecord(p).filter((l) => l.event === "start").map((l) => l.n)).toEqual([1, 2, 3]);
    const attempts = readEvents(p, "flaky").filter((e) => e.type === "attempt-end");
    expect(attempts.map((e) => [e.attempt, e.passed, e.reason])).toEqual([
      [1, false, "exit:1"],
      [2, false, "exit:1"],
      [3, true, "passed"],
    ]);
    expect(readState(p, "flaky").steps.flaky).toMatchObject({ state: "passed", attempts: 3 });
    expect(r.stdout).toContain("attempt 1 of flaky failed: exit:1");
  });

  it("retries run out: failed after 1 + retries attempts, with the last attempt's reason", () => {
    const p = makeProject([{ id: "broken", steps: [recStep("broken", ["--exit", 3], { retries: 1 })] }]);
    expect(ws(p, ["run", "--ws-id", "broken"]).code).toBe(1);
    expect(readRecord(p).filter((l) => l.event === "start")).toHaveLength(2);
    expect(readState(p, "broken").steps.broken).toMatchObject({ state: "failed", reason: "exit:3", attempts: 2 });
  });

  it("no progress: two attempts failing an acceptance test with the same output stop the retries", () => {
    const p = makeProject([
      {
        id: "stuck",
        steps: [recStep("stuck", [], { retries: 5, acceptance_tests: ["echo 'expected 4, got 5'; exit 1"] })],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "stuck"]);
    expect(r.code).toBe(1);
    expect(readRecord(p).filter((l) => l.event === "start")).toHaveLength(2);
    expect(readState(p, "stuck").steps.stuck).toMatchObject({ state: "failed", reason: "no_progress", attempts: 2 });
    const tests = readEvents(p, "stuck").filter((e) => e.type === "test-end");
    expect(tests.map((e) => e.passed)).toEqual([false, false]);
  });

  it("an acceptance test whose output changes is retried until retries run out (progress is not no_progress)", () => {
    // The test prints how many times the step ran: a different failure each attempt.
    const p = makeProject([
      {
        id: "moving",
        steps: [recStep("moving", [], { retries: 2, acceptance_tests: ['cat "$RECORD.moving.count"; exit 1'] })],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "moving"]).code).toBe(1);
    expect(readState(p, "moving").steps.moving).toMatchObject({ state: "failed", reason: "tests_failed", attempts: 3 });
  });

  it("acceptance tests run in order after the tool and all must pass", () => {
    const p = makeProject([
      {
        id: "tests",
        steps: [recStep("ok", [], { acceptance_tests: ["test -f record.jsonl", { run: "exit 0", timeout: 5 }] })],
      },
    ]);
    expect(ws(p, ["run", "--ws-id", "tests"]).code).toBe(0);
    const tests = readEvents(p, "tests").filter((e) => e.type === "test-end");
    expect(tests.map((e) => [e.index, e.passed])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(fs.existsSync(path.join(p.state("tests"), "steps", "ok", "attempt-1.test-2.log"))).toBe(true);
  });
});

describe("ws run: exit codes 0 / 1 / 2", () => {
  it("0 when every step passed or was skipped", () => {
    const p = makeProject([{ id: "green", steps: [recStep("a"), recStep("b", [], { when: false })] }]);
    expect(ws(p, ["run", "--ws-id", "green"]).code).toBe(0);
  });

  it("2 for an invalid workstream, with file:line:col, and nothing runs", () => {
    const p = makeProject([{ id: "typo", steps: [recStep("a", [], { depend_on: [] })] }]);
    const r = ws(p, ["run", "--ws-id", "typo"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/workstreams\/typo\.json:\d+:\d+: error: unknown key "depend_on"/);
    expect(readRecord(p)).toEqual([]);
    expect(fs.existsSync(p.state("typo"))).toBe(false);
  });

  it("2 for a cycle, naming it", () => {
    const p = makeProject([{ id: "cycle", steps: [recStep("a", [], { depends_on: ["b"] }), recStep("b", [], { depends_on: ["a"] })] }]);
    const r = ws(p, ["run", "--ws-id", "cycle"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a → b → a|b → a → b/);
    expect(readRecord(p)).toEqual([]);
  });

  it("2 for a usage error: bad flag value, unknown flag, unknown workstream, unknown --only step", () => {
    const p = makeProject([{ id: "fine", steps: [recStep("a")] }]);
    expect(ws(p, ["run", "--ws-id", "fine", "--max-workers", "0"]).code).toBe(2);
    expect(ws(p, ["run", "--ws-id", "fine", "--frobnicate"]).code).toBe(2);
    expect(ws(p, ["run", "--ws-id", "nope"]).code).toBe(2);
    const only = ws(p, ["run", "--ws-id", "fine", "--only", "aa"]);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('did you mean "a"');
    expect(readRecord(p)).toEqual([]);
  });
});
