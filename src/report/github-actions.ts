import { formatReason, reasonDetail } from "../events/end-reason.js";
import { attemptsPhrase } from "../format/attempts.js";
import { randomUUID } from "node:crypto";
import type { RunEvent } from "../events/run-event.js";

/**
 * GitHub Actions workflow commands for a run, as a listener: the caller prints the returned lines
 * for each event when `GITHUB_ACTIONS=true`.
 *
 * A step's output is printed as one `::group::` block when its attempt (or test) ends, not opened
 * at step-start: steps run in parallel, and a group left open while other steps print would
 * swallow their lines (groups cannot nest or interleave).
 */

/** Escaping of a command's message, per the workflow-commands spec. */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Escaping of a property value (`title=...`): also `:` and `,`, which delimit properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

function command(name: "error" | "warning" | "notice", title: string, message: string): string {
  return `::${name} title=${escapeProperty(title)}::${escapeData(message)}`;
}

/**
 * A group holding tool output. The output is fenced with `::stop-commands::` so that a line an
 * agent printed (`::add-mask::`, `::error::`...) is shown, not executed by the runner.
 */
function group(title: string, lines: string[]): string[] {
  // Nothing printed, nothing to unfold: an empty group per quiet step would only be noise.
  if (lines.length === 0) return [];
  const token = `ws-${randomUUID()}`;
  return [`::group::${escapeData(title)}`, `::stop-commands::${token}`, ...lines, `::${token}::`, "::endgroup::"];
}

export function githubActionsLines(event: RunEvent): string[] {
  switch (event.type) {
    case "attempt-end": {
      const outcome = event.passed ? "passed" : formatReason(event.reason);
      const lines = event.detail ? [event.detail, ...event.tail] : event.tail;
      return group(`step ${event.step} (attempt ${event.attempt}): ${outcome}`, lines);
    }
    case "test-end":
      return group(
        `step ${event.step} (attempt ${event.attempt}) test ${event.index}: ${event.passed ? "passed" : formatReason(event.reason)}: ${event.command}`,
        event.tail,
      );
    case "step-end":
      if (event.state === "failed") {
        // The cause on the annotation too (`exit:1 after 1 attempt: 1 failed, 2 passed`): it is what a PR's checks list shows.
        const cause = reasonDetail(event.reason, event.detail);
        return [command("error", `ws step ${event.step} failed`, `${formatReason(event.reason)} after ${attemptsPhrase(event.attempts, event.interrupted, event.earlierTries)}${cause === undefined ? "" : `: ${cause}`}`)];
      }
      if (event.state === "blocked") return [command("warning", `ws step ${event.step} blocked`, formatReason(event.reason))];
      return [];
    case "warning":
      return [command(event.level === "info" ? "notice" : "warning", event.step ? `ws step ${event.step}` : "ws", event.message)];
    case "breaker":
      return event.state === "open"
        ? [command("warning", "ws circuit breaker", `${event.tool}: open after ${event.failures} consecutive failure(s)`)]
        : [];
    case "approval-wait":
      return [command("notice", `ws step ${event.step} waits for approval`, `${event.prompt} (ws approve --step ${event.step}, or ws run --approve ${event.step})`)];
    case "compensate-end":
      return event.passed ? [] : [command("error", `ws compensation of ${event.step} failed`, `${formatReason(event.reason)}; log ${event.log}`)];
    case "approval-end":
    case "run-start":
    case "step-start":
    case "test-start":
    case "run-end":
    case "rollback-start":
    case "compensate-start":
    case "rollback-end":
    case "progress":
    case "step-wait":
    case "activity":
      return [];
  }
}
