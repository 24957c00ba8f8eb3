import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { because, type EndReason } from "../../src/events/end-reason.js";
import { countsAgainstRetries, decideRetry, MAX_QUOTA_ATTEMPTS, type AttemptFacts, type RetryDecision } from "../../src/engine/retry-decision.js";

const facts = (over: Partial<AttemptFacts>): AttemptFacts => ({
  attempt: 1,
  reason: { kind: "exit", code: 1 },
  toolFault: true,
  quotaAttempts: 0,
  spent: 0,
  retries: 2,
  ...over,
});

describe("decideRetry", () => {
  const cases: Array<[string, Partial<AttemptFacts>, RetryDecision]> = [
    ["a passed attempt passes", { reason: because("passed"), spent: 5, retries: 0 }, { kind: "passed" }],
    [
      "a failure with retries left is retried, told why",
      { attempt: 2, reason: { kind: "exit", code: 3 }, detail: "boom", spent: 1 },
      { kind: "retry", feedback: "The previous attempt (2) failed: exit:3.\nboom" },
    ],
    [
      "the last try fails with its own reason",
      { reason: { kind: "exit", code: 3 }, detail: "boom", spent: 2 },
      { kind: "final", state: "failed", reason: { kind: "exit", code: 3 }, detail: "boom", toolFault: true, counted: true },
    ],
    [
      "no retries: the first failure is final",
      { reason: because("timeout"), retries: 0, toolFault: true },
      { kind: "final", state: "failed", reason: because("timeout"), detail: undefined, toolFault: true, counted: true },
    ],
    ["a quota answer is free", { reason: because("quota"), spent: 2, retries: 2 }, { kind: "free" }],
    [
      "the tenth quota answer counts like any failure",
      { reason: because("quota"), quotaAttempts: MAX_QUOTA_ATTEMPTS - 1, spent: 2, retries: 2 },
      { kind: "final", state: "failed", reason: because("quota"), detail: undefined, toolFault: true, counted: true },
    ],
    [
      "auth is final with retries left",
      { reason: because("auth"), detail: "log in", retries: 5 },
      { kind: "final", state: "failed", reason: because("auth"), detail: "log in", toolFault: true, counted: false },
    ],
    [
      "an unreachable API is final with retries left (the tool is unusable for the run)",
      { reason: because("network"), detail: "could not reach 127.0.0.1:9", retries: 2 },
      { kind: "final", state: "failed", reason: because("network"), detail: "could not reach 127.0.0.1:9", toolFault: true, counted: false },
    ],
    ["with circuit_breaker.network_wait, an unreachable API is a free attempt (parked, then a probe)", { reason: because("network"), networkWait: true, retries: 0 }, { kind: "free" }],
    [
      "waiting for the network is bounded like quota",
      { reason: because("network"), networkWait: true, quotaAttempts: MAX_QUOTA_ATTEMPTS - 1, retries: 0 },
      { kind: "final", state: "failed", reason: because("network"), toolFault: true, counted: false },
    ],
    [
      "a budget hit during the attempt is final",
      { reason: because("budget"), detail: "over", toolFault: false, retries: 5 },
      { kind: "final", state: "failed", reason: because("budget"), detail: "over", toolFault: false, counted: false },
    ],
    [
      "the same acceptance failure twice is no progress",
      { reason: because("tests_failed"), detail: "test 1", testFailure: "FAIL x", lastTestFailure: "FAIL x", retries: 5 },
      { kind: "final", state: "failed", reason: because("no_progress"), detail: "test 1", toolFault: true, counted: true },
    ],
    [
      "a different acceptance failure is retried with the test's output",
      { reason: because("tests_failed"), detail: "test 1", testFailure: "FAIL y", lastTestFailure: "FAIL x", retries: 5 },
      { kind: "retry", feedback: "The previous attempt (1) failed: tests_failed.\ntest 1\nFAIL y" },
    ],
    [
      "a spent budget ends the step rather than retrying, not the tool's fault",
      { reason: { kind: "exit", code: 1 }, detail: "boom", overBudget: "cost $2 is over", retries: 5 },
      { kind: "final", state: "failed", reason: because("budget"), detail: "cost $2 is over", toolFault: false, counted: true },
    ],
    [
      "a plain cancellation is cancelled, with what was discarded",
      { reason: because("cancelled"), discarded: "its changes were discarded: a" },
      { kind: "final", state: "cancelled", reason: because("cancelled"), detail: "its changes were discarded: a", toolFault: false, counted: false },
    ],
    [
      "a lost race says so",
      { reason: because("cancelled"), stoppedWith: because("lost_race") },
      { kind: "final", state: "cancelled", reason: because("lost_race"), detail: undefined, toolFault: false, counted: false },
    ],
    [
      "a group timeout fails the step",
      { reason: because("cancelled"), stoppedWith: because("group_timeout"), discarded: "x" },
      { kind: "final", state: "failed", reason: because("group_timeout"), toolFault: false, counted: false },
    ],
  ];
  it.each(cases)("%s", (_name, over, expected) => {
    expect(decideRetry(facts(over))).toEqual(expected);
  });
});

/** Reasons an attempt may end with (cancelled ones excepted: the scheduler stops those). */
const reasonArb: fc.Arbitrary<EndReason> = fc.oneof(
  fc.constant(because("passed")),
  fc.constant(because("timeout")),
  fc.constant(because("tests_failed")),
  fc.constant(because("quota")),
  fc.constant(because("auth")),
  fc.constant(because("budget")),
  fc.constant(because("tool_error")),
  fc.integer({ min: 1, max: 3 }).map((code): EndReason => ({ kind: "exit", code })),
);

const attemptArb = fc.record({
  reason: reasonArb,
  testFailure: fc.constantFrom("FAIL a", "FAIL b", "FAIL c"),
  overBudget: fc.boolean(),
});

/** Plays a step's attempts the way StepRun keeps its counters, until the decision ends the step. */
function play(retries: number, attempts: Array<{ reason: EndReason; testFailure: string; overBudget: boolean }>) {
  let spent = 0;
  let quota = 0;
  let counted = 0;
  let last: string | undefined;
  const decisions: Array<{ reason: EndReason; decision: RetryDecision; spentBefore: number }> = [];
  for (const [k, a] of attempts.entries()) {
    const testFailure = a.reason.kind === "tests_failed" ? a.testFailure : undefined;
    const decision = decideRetry({
      attempt: k + 1,
      reason: a.reason,
      toolFault: true,
      quotaAttempts: quota,
      spent,
      retries,
      lastTestFailure: last,
      testFailure,
      overBudget: a.overBudget ? "over" : undefined,
    });
    decisions.push({ reason: a.reason, decision, spentBefore: spent });
    if (a.reason.kind === "quota") quota += 1;
    if (countsAgainstRetries(decision)) {
      spent += 1;
      counted += 1;
      last = testFailure;
    }
    if (decision.kind === "passed" || decision.kind === "final") break;
  }
  return { decisions, counted };
}

describe("decideRetry over a step's attempts (property)", () => {
  it("never counts more than 1 + retries attempts, quota never spends a retry, auth and budget are final", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(attemptArb, { minLength: 1, maxLength: 30 }), (retries, attempts) => {
        const { decisions, counted } = play(retries, attempts);
        expect(counted).toBeLessThanOrEqual(1 + retries);
        for (const { reason, decision, spentBefore } of decisions) {
          if (reason.kind === "passed") expect(decision).toEqual({ kind: "passed" });
          if (reason.kind === "auth" || reason.kind === "budget") {
            expect(decision.kind).toBe("final");
            expect(countsAgainstRetries(decision)).toBe(false);
          }
          if (decision.kind === "free") {
            expect(reason.kind).toBe("quota");
            expect(countsAgainstRetries(decision)).toBe(false);
          }
          // A retry is only granted while a try is left.
          if (decision.kind === "retry") expect(spentBefore + 1).toBeLessThanOrEqual(retries);
        }
        // Only the last decision may end the step; every earlier one asked for another attempt.
        for (const { decision } of decisions.slice(0, -1)) expect(["retry", "free"]).toContain(decision.kind);
      }),
    );
  });

  it("gives up on a tool that keeps answering quota after MAX_QUOTA_ATTEMPTS attempts", () => {
    const { decisions } = play(0, Array.from({ length: 50 }, () => ({ reason: because("quota"), testFailure: "", overBudget: false })));
    expect(decisions).toHaveLength(MAX_QUOTA_ATTEMPTS);
    expect(decisions.at(-1)?.decision.kind).toBe("final");
  });
});
