import type { EventOf } from "../events/run-event.js";
import type { Workstream } from "../workstream/model.js";
import { formatDuration } from "../format/duration.js";
import { stripAnsi } from "../format/ansi.js";

/** Lines of a failing attempt shown inline: enough for a stack trace's head, few enough to scan. */
export const INLINE_TAIL_LINES = 20;

/** Seconds of each step's attempt limit and of each of its acceptance tests (index from 1). */
export interface Limits {
  step(stepId: string): number | undefined;
  test(stepId: string, index: number): number | undefined;
}

export function limitsOf(ws: Workstream): Limits {
  // Built at the first timeout: a run of 3 steps of 50 000 spent ~45 ms on it up front.
  let steps: Map<string, Workstream["steps"][number]> | undefined;
  const byId = (id: string) => (steps ??= new Map(ws.steps.map((s) => [s.id, s]))).get(id);
  return {
    step: (id) => byId(id)?.timeout,
    test: (id, index) => {
      const step = byId(id);
      const test = step?.acceptanceTests[index - 1];
      return step && test ? (test.timeout ?? step.timeout) : undefined;
    },
  };
}

/** "after its 5m limit" for a timed-out attempt or test; undefined for anything else. */
export function timeoutNote(event: EventOf<"attempt-end"> | EventOf<"test-end">, limits: Limits | undefined): string | undefined {
  if (event.reason.kind !== "timeout") return undefined;
  const seconds = event.type === "test-end" ? limits?.test(event.step, event.index) : limits?.step(event.step);
  return seconds ? `timed out after its ${formatDuration(seconds * 1000)} limit` : "timed out";
}

/**
 * What a failed attempt printed last (its tool's output, or the failing acceptance test's, which
 * the engine puts in the tail), so the cause (`pnpm: not found`) is where the user looks rather
 * than only in `ws logs`. Undefined for a passed or silent attempt.
 */
export function failureTail(event: EventOf<"attempt-end">, indent = "    │ "): string[] {
  if (event.passed || event.reason.kind === "cancelled") return [];
  const lines = event.tail.map(stripAnsi).filter((l) => l.trim() !== "").slice(-INLINE_TAIL_LINES);
  if (lines.length === 0) return [];
  const whose = event.reason.kind === "tests_failed" ? "the failing acceptance test" : "its output";
  return [`${indent}last ${lines.length} line${lines.length === 1 ? "" : "s"} of ${whose}:`, ...lines.map((l) => indent + l)];
}
