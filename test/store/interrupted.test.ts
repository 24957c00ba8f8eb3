import { describe, expect, test } from "vitest";
import { foldEvents, interruptedAttempts, settleInterrupted } from "../../src/store/run-state.js";
import { attemptsCell, attemptsPhrase } from "../../src/format/attempts.js";
import { RunLog } from "../report/run-events.js";

// An attempt cut short from outside reached no outcome: it numbers a log but is not a try. The
// fold must tell it from a failed try however the run ended: Ctrl-C (an attempt-end "cancelled"),
// or ws killed mid-attempt (a step-start with no attempt-end), or ws killed between two attempts
// (nothing was cut short then).

function cut(log: RunLog, step: string, attempt: number): RunLog {
  log.events.push({ type: "step-start", at: "2026-11-22T10:00:00.000Z", step, attempt, tool: "shell" });
  return log;
}

describe("interrupted attempts in the fold", () => {
  test("Ctrl-C: the cancelled attempt is interrupted, and a resume's step-end keeps the count", () => {
    const log = new RunLog().start("w", ["s"]).attempt("s", 1, { passed: false, reason: "cancelled" });
    expect(foldEvents(log.events)!.steps.s).toMatchObject({ state: "running", attempts: 1, interrupted: 1 });
    log.events.push({ type: "step-end", at: "2026-11-22T10:30:00.000Z", step: "s", state: "cancelled", reason: { kind: "cancelled" }, attempts: 1, interrupted: 1, durationMs: 10 });
    log.finish("cancelled", 10, 10);
    expect(foldEvents(log.events)!.steps.s).toMatchObject({ state: "cancelled", attempts: 1, interrupted: 1 });
    log.start("w", ["s"], { resume: true });
    // Before its next attempt starts, the resumed step still shows what it has been through.
    expect(foldEvents(log.events)!.steps.s).toMatchObject({ state: "pending", attempts: 1, interrupted: 1 });
    log.attempt("s", 2, { passed: true });
    log.events.push({ type: "step-end", at: "2026-11-22T11:00:00.000Z", step: "s", state: "passed", reason: { kind: "passed" }, attempts: 2, interrupted: 1, durationMs: 20 });
    expect(foldEvents(log.events)!.steps.s).toMatchObject({ state: "passed", attempts: 2, interrupted: 1 });
  });

  test("ws killed mid-attempt: the open attempt counts as interrupted once the run is resumed", () => {
    const log = cut(new RunLog().start("w", ["s"]).attempt("s", 1, { passed: false, reason: "exit:1" }), "s", 2);
    const died = foldEvents(log.events)!.steps.s!;
    expect(died).toMatchObject({ state: "running", attempts: 2, inAttempt: true });
    expect(interruptedAttempts(died)).toBe(1);
    log.start("w", ["s"], { resume: true });
    const resumed = foldEvents(log.events)!.steps.s!;
    expect(resumed).toMatchObject({ state: "pending", attempts: 2, interrupted: 1 });
    expect(resumed.inAttempt).toBeUndefined();
  });

  test("ws killed between two attempts: the failed one was a try, nothing was interrupted", () => {
    const log = new RunLog().start("w", ["s"]).attempt("s", 1, { passed: false, reason: "exit:1" });
    expect(interruptedAttempts(foldEvents(log.events)!.steps.s!)).toBe(0);
    log.start("w", ["s"], { resume: true });
    expect(foldEvents(log.events)!.steps.s).toMatchObject({ attempts: 1 });
    expect(foldEvents(log.events)!.steps.s!.interrupted).toBeUndefined();
  });
});

describe("a run whose process is gone, as ws status shows it", () => {
  test("a running step and a step waiting at its gate end cancelled; what ended stays; the status is left to the caller", () => {
    const log = new RunLog().start("w", ["done", "busy", "gated", "later"]).attempt("done", 1, { passed: true });
    log.events.push({ type: "step-end", at: "2026-11-22T10:00:01.000Z", step: "done", state: "passed", reason: { kind: "passed" }, attempts: 1, durationMs: 5 });
    cut(log, "busy", 1);
    log.events.push({ type: "approval-wait", at: "2026-11-22T10:00:02.000Z", step: "gated", prompt: "Go?" });
    const state = foldEvents(log.events)!;
    expect(state.steps.busy).toMatchObject({ state: "running", inAttempt: true });
    expect(state.steps.gated?.waiting).toMatchObject({ reason: "approval" });
    settleInterrupted(state);
    expect(state.status).toBe("running");
    expect(state.steps.done).toMatchObject({ state: "passed" });
    expect(state.steps.busy).toMatchObject({ state: "cancelled", reason: { kind: "cancelled" }, interrupted: 1, detail: "interrupted (ws is gone)" });
    expect(state.steps.busy?.inAttempt).toBeUndefined();
    expect(state.steps.gated).toMatchObject({ state: "cancelled", reason: { kind: "cancelled" }, detail: "interrupted at its approval gate" });
    expect(state.steps.gated?.waiting).toBeUndefined();
    expect(state.steps.later).toMatchObject({ state: "pending" });
  });
});

describe("how attempts are said", () => {
  test.each([
    [2, 0, "2", "2 attempts"],
    [1, 0, "1", "1 attempt"],
    [0, 0, "", "0 attempts"],
    [1, 1, "1 interrupted", "1 interrupted attempt"],
    [3, 1, "2 +1 interrupted", "2 attempts and 1 interrupted"],
    [4, 2, "2 +2 interrupted", "2 attempts and 2 interrupted"],
  ])("%i attempts, %i interrupted: cell %j, phrase %j", (attempts, interrupted, cell, phrase) => {
    expect(attemptsCell(attempts, interrupted)).toBe(cell);
    expect(attemptsPhrase(attempts, interrupted)).toBe(phrase);
  });

  test("attempts of the runs a resume continued are said apart (issue 33.5: no 'after 3 attempts' for a step without retries)", () => {
    expect(attemptsPhrase(3, 0, 2)).toBe("1 attempt (3 counting earlier runs)");
    expect(attemptsPhrase(1, 0, 1)).toBe("1 attempt in earlier runs");
    // An earlier run's interrupted attempt was no try: nothing to say apart.
    expect(attemptsPhrase(3, 1, 0)).toBe("2 attempts and 1 interrupted");
    expect(attemptsPhrase(4, 1, 1)).toBe("2 attempts and 1 interrupted (3 counting earlier runs)");
  });
});
