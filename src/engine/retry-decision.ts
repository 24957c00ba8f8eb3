import { retryFeedback } from "../format/retry-feedback.js";
import { because, type EndReason } from "../events/end-reason.js";

/**
 * What follows an attempt, decided from its facts alone: no process, file or clock, so every rule
 * (quota is free, auth and budget are final, the same acceptance failure twice is no progress)
 * is a row of a table test (test/engine/retry-decision.test.ts). StepRun gathers the facts,
 * carries out the decision and keeps the counters.
 */

/** Quota answers don't spend retries, but a tool that never recovers must not loop forever. */
export const MAX_QUOTA_ATTEMPTS = 10;

/**
 * Outcomes no retry of the same tool can change: the step ends at once. An unreachable API is
 * one (issue 31): seconds later the network is as dead, and each retry costs the CLI's start-up
 * and its own reconnects; a workstream that expects it back sets circuit_breaker.network_wait.
 * Nor does a program that cannot be started (not found, not executable, not visible in the sandbox).
 */
const FINAL_KINDS = new Set<EndReason["kind"]>(["auth", "budget", "network", "spawn_error"]);

export interface AttemptFacts {
  /** The attempt's number (its log files), for the retry prompt. */
  attempt: number;
  /** Why the attempt ended (after its acceptance tests). */
  reason: EndReason;
  detail?: string | undefined;
  /** Whether the tool is to blame (its breaker counts it). */
  toolFault: boolean;
  /** Why the scheduler aborted the attempt, when it did (a lost race, a group timeout). */
  stoppedWith?: EndReason | undefined;
  /** What a cancelled attempt's discarded changes amount to, said in the step's end. */
  discarded?: string | undefined;
  /** Quota answers (and waits for the network) before this attempt. */
  quotaAttempts: number;
  /** circuit_breaker.network_wait is set: an unreachable API parks the tool like a quota. */
  networkWait?: boolean | undefined;
  /** Failed attempts before this one that counted against `retries`. */
  spent: number;
  retries: number;
  /** The acceptance failure of the previous counted attempt (capped), if it failed its tests. */
  lastTestFailure?: string | undefined;
  /** This attempt's acceptance failure (capped), if it failed its tests. */
  testFailure?: string | undefined;
  /** Why the step's budget is spent, counting this attempt; undefined while some is left. */
  overBudget?: string | undefined;
}

export type RetryDecision =
  | { kind: "passed" }
  /** Another attempt, counted against `retries`, told what went wrong. */
  | { kind: "retry"; feedback: string }
  /** Another attempt that spends no retry (a quota answer). */
  | { kind: "free" }
  /** The step ends. `counted`: this attempt spent one of the tries (see `countsAgainstRetries`). */
  | { kind: "final"; state: "failed" | "cancelled"; reason: EndReason; detail?: string | undefined; toolFault: boolean; counted: boolean };

/** Whether the decision used up one of the step's 1 + retries tries. */
export function countsAgainstRetries(decision: RetryDecision): boolean {
  return decision.kind === "retry" || (decision.kind === "final" && decision.counted);
}

/**
 * How long the `retry`-th retry (1: the first) waits after the failed attempt, in ms:
 * retry_delay × retry_backoff^(retry − 1), never over retry_delay_max. A flaky network test or a
 * rate-limited API wants room between tries; the step gives its worker back meanwhile.
 */
export function retryDelayMs(step: { retryDelay: number; retryBackoff: number; retryDelayMax?: number | undefined }, retry: number): number {
  if (step.retryDelay <= 0) return 0;
  const seconds = step.retryDelay * step.retryBackoff ** Math.max(0, retry - 1);
  return Math.round(Math.min(seconds, step.retryDelayMax ?? Infinity) * 1000);
}

export function decideRetry(facts: AttemptFacts): RetryDecision {
  const { reason, detail, toolFault } = facts;
  if (reason.kind === "passed") return { kind: "passed" };
  if (reason.kind === "cancelled") {
    // The scheduler says why it stopped the step when it was not Ctrl-C or a stop.
    const why = facts.stoppedWith;
    if (why?.kind === "group_timeout") return { kind: "final", state: "failed", reason: why, toolFault: false, counted: false };
    return { kind: "final", state: "cancelled", reason: why?.kind === "lost_race" ? why : reason, detail: facts.discarded, toolFault: false, counted: false };
  }
  const parks = reason.kind === "quota" || (reason.kind === "network" && facts.networkWait === true);
  if (parks && facts.quotaAttempts + 1 < MAX_QUOTA_ATTEMPTS) return { kind: "free" };
  if (FINAL_KINDS.has(reason.kind)) return { kind: "final", state: "failed", reason, detail, toolFault, counted: false };

  const failed = (why: EndReason, more: { detail?: string | undefined; toolFault?: boolean } = {}): RetryDecision => ({
    kind: "final",
    state: "failed",
    reason: why,
    detail: "detail" in more ? more.detail : detail,
    toolFault: more.toolFault ?? toolFault,
    counted: true,
  });
  const { testFailure } = facts;
  // Two attempts in a row failed the same way: another one would burn budget for nothing.
  if (testFailure !== undefined && testFailure === facts.lastTestFailure) return failed(because("no_progress"));
  if (facts.spent + 1 > facts.retries) return failed(reason);
  if (facts.overBudget !== undefined) return failed(because("budget"), { detail: facts.overBudget, toolFault: false });
  // The retry prompt gets a clean summary (format/retry-feedback.ts).
  return { kind: "retry", feedback: retryFeedback(facts.attempt, reason, detail, testFailure) };
}
