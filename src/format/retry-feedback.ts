import { formatReason, type EndReason } from "../events/end-reason.js";

/**
 * What a retry's prompt is told about the attempt before it, in one place: the engine writes it
 * into the prompt, `ws report` shows it beside the retry. A clean summary (the tool's own error
 * message, the failing test's output), never the raw tail of an agent's run.
 */

/** Lines of a test's (or tool's) output that feedback and the events keep. */
export const FEEDBACK_LINES = 40;
const FEEDBACK_CHARS = 4000;

/** The last FEEDBACK_LINES lines, at most FEEDBACK_CHARS characters: what a prompt can hold. */
export function capFeedback(lines: readonly string[]): string {
  const text = lines.slice(-FEEDBACK_LINES).join("\n");
  return text.length > FEEDBACK_CHARS ? text.slice(-FEEDBACK_CHARS) : text;
}

export function retryFeedback(attempt: number, reason: EndReason, detail: string | undefined, testFailure: string | undefined): string {
  return [`The previous attempt (${attempt}) failed: ${formatReason(reason)}.`, detail, testFailure].filter(Boolean).join("\n");
}
