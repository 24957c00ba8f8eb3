import { formatReason } from "../events/end-reason.js";
import { attemptsPhrase } from "../format/attempts.js";
import { waitingLabel } from "./waiting.js";
import type { RunEvent } from "../events/run-event.js";
import { unreachable } from "../events/run-event.js";
import { clockTime, formatDuration } from "../format/duration.js";
import { stripAnsi } from "../format/ansi.js";


/** "base: the working tree, includes 2 uncommitted files (a, b); reused the worktree", for the run header. */
export function runBaseText(event: Extract<RunEvent, { type: "run-start" }>): string | undefined {
  const parts: string[] = [];
  const base = event.base;
  if (base && base.source !== "working tree") parts.push(`base: ${base.source} (${base.commit.slice(0, 8)})`);
  else if (base && base.uncommitted === 0) parts.push("base: the working tree (nothing uncommitted)");
  else if (base) {
    const more = base.uncommitted > base.sample.length ? ", ..." : "";
    parts.push(`base: the working tree, includes ${base.uncommitted} uncommitted file${base.uncommitted === 1 ? "" : "s"} (${base.sample.join(", ")}${more}; --base HEAD leaves them out)`);
  }
  if (event.reused) parts.push(event.resume ? "continuing in its worktree" : "reused the worktree of the last run (reset to the base; files git ignores kept)");
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** The header's "; estimated 2.1s": the plan's simulated makespan, once history knows every step. */
function estimateText(event: Extract<RunEvent, { type: "run-start" }>): string {
  return event.estimateMs === undefined ? "" : `; estimated ${formatDuration(event.estimateMs)}`;
}

/** "approved deploy (by alice, ws approve)", "rejected deploy: nobody decided within 1h (approval.timeout)". */
export function approvalLine(event: Extract<RunEvent, { type: "approval-end" }>): string {
  if (event.via === "timeout") return `rejected ${event.step}: ${event.reason ?? "nobody decided before its timeout"}`;
  const how = { flag: "ws run --approve", command: event.approved ? "ws approve" : "ws reject", prompt: "at the run's terminal" }[event.via];
  return `${event.approved ? "approved" : "rejected"} ${event.step} (by ${event.by}, ${how})${event.reason ? `: ${event.reason}` : ""}`;
}

/**
 * One human line per event (without timestamp): the text of orchestrator.log and of the plain
 * (non-TTY / CI) terminal output. Undefined for events too fine-grained to show.
 */
export function formatEventLine(event: RunEvent): string | undefined {
  switch (event.type) {
    case "run-start":
      return `run ${event.runId} of ${event.wsId}${event.resume ? " (resume)" : ""}: ${event.selected.length}/${event.steps.length} steps, ${event.maxWorkers} workers${event.adaptive ? " (auto: fewer under load)" : ""}, in ${event.workdir}${event.branch ? ` (branch ${event.branch})` : ""}${runBaseText(event) ? `; ${runBaseText(event)}` : ""}${estimateText(event)}`;
    case "step-start":
      return `start  ${event.step} (attempt ${event.attempt}, ${event.tool})`;
    case "test-start":
      return undefined;
    case "step-wait":
      // Only a retry's delay is worth a line: the other waits are short and the timeline shows them.
      // The delay to the tenth of a second: the event is stamped a millisecond or two after the hold began.
      return event.wait === "retry" && event.until !== undefined ? `retry  ${event.step} in ${formatDuration(Math.max(0, Math.round((Date.parse(event.until) - Date.parse(event.at)) / 100) * 100))} (retry_delay), at ${clockTime(event.until, true) ?? event.until}` : undefined;
    case "activity":
      return `activity ${event.step}: ${event.text}`;
    case "test-end":
      // "test 2 of build", not "build #2": a bare number after the step reads as an attempt number.
      return `test   ${event.index} of ${event.step} (attempt ${event.attempt}) ${event.passed ? "passed" : `failed (${formatReason(event.reason)}, exit ${event.exitCode ?? "-"})`}: ${event.command}`;
    case "attempt-end":
      if (event.passed) return undefined;
      // A Ctrl-C'd or aborted attempt did not fail: it was stopped.
      if (event.reason.kind === "cancelled") return `attempt ${event.attempt} of ${event.step} stopped (cancelled)`;
      return `attempt ${event.attempt} of ${event.step} failed: ${formatReason(event.reason)}${event.detail ? ` — ${stripAnsi(event.detail)}` : ""}${event.free ? ` (quota: not counted against retries; ${waitingLabel(event.resetAt)})` : ""}`;
    case "step-end":
      if (event.state === "skipped") return `skipped ${event.step} (${event.reason.kind === "skipped" ? "its when condition is false" : formatReason(event.reason)})`;
      if (event.attempts === 0) return `${event.state.padEnd(6)} ${event.step} (${formatReason(event.reason)})${event.detail ? ` — ${stripAnsi(event.detail)}` : ""}`;
      return `${event.state.padEnd(6)} ${event.step}${event.state === "passed" ? "" : ` (${formatReason(event.reason)})`} after ${attemptsPhrase(event.attempts, event.interrupted, event.earlierTries)}, ${formatDuration(event.durationMs)}${event.commit ? `, commit ${event.commit.slice(0, 8)}` : ""}${event.detail ? ` — ${stripAnsi(event.detail)}` : ""}`;
    case "approval-wait":
      return `waiting ${event.step} for approval: ${event.prompt}${event.timeoutAt ? ` (rejected if not decided by ${clockTime(event.timeoutAt, true)})` : ""}`;
    case "approval-end":
      return approvalLine(event);
    case "breaker":
      return `breaker ${event.tool}${event.step === undefined ? "" : ` of ${event.step}`}: ${event.state} after ${event.failures} tool failure${event.failures === 1 ? "" : "s"}${event.cooldownMs ? `, cooling down ${formatDuration(event.cooldownMs)}` : ""}`;
    case "rollback-start":
      return `rollback (${event.trigger}): compensating ${event.steps.length} step${event.steps.length === 1 ? "" : "s"}, last finished first: ${event.steps.join(", ")}`;
    case "compensate-start":
      return `compensate ${event.step} (${event.tool})`;
    case "compensate-end":
      return `compensate ${event.step} ${event.passed ? "passed" : `failed (${formatReason(event.reason)})`} in ${formatDuration(event.durationMs)}, log ${event.log}${event.undone ? `; its commit is undone on the run's branch (${event.undone.slice(0, 8)})` : ""}`;
    case "rollback-end":
      return event.passed ? "rollback done" : `rollback done; compensations failed: ${event.failed.join(", ")}`;
    case "progress":
      return `progress ${event.step}: ${Math.floor(event.fraction * 100)}%`;
    case "warning":
      return `${event.level === "info" ? "info" : "warning"}${event.step ? ` ${event.step}` : ""}: ${event.message}`;
    case "run-end":
      return `run ${event.outcome} in ${formatDuration(event.durationMs)} (step times summed: ${formatDuration(event.sequentialMs)}), exit ${event.exitCode}`;
    default:
      return unreachable(event);
  }
}
