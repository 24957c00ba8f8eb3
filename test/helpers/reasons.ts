import { formatReason } from "../../src/events/end-reason.js";
import type { EndReason, ReasonKind } from "../../src/events/end-reason.js";

/** The printed form back to data, so tests can write reasons as `ws status` shows them. */
export function reason(text: string): EndReason {
  const [kind, rest = ""] = text.split(/:(.*)/s);
  if (kind === "exit") return { kind: "exit", code: Number(rest) };
  if (kind === "signal") return { kind: "signal", signal: rest };
  if (kind === "blocked_by") return { kind: "blocked_by", step: rest };
  if (kind === "held_by") return { kind: "held_by", step: rest };
  if (kind === "run_if") return { kind: "run_if", condition: rest as "failure" };
  return { kind: kind as ReasonKind };
}

/**
 * A JSON.parse reviver that prints every `reason` the way `ws status` shows it, so tests that read
 * events.jsonl, state.json or `--json` output compare against the familiar strings.
 */
export function printedReasons(key: string, value: unknown): unknown {
  return key === "reason" && typeof value === "object" && value !== null && "kind" in value ? formatReason(value as EndReason) : value;
}
