import type { ChalkInstance } from "chalk";
import type { StepState } from "../events/run-event.js";

/** One mark per state, shared by every text view (live lines, tables, graphs) so a reader learns them once. */
export const STATE_MARKS: Record<StepState, string> = {
  passed: "✔",
  failed: "✖",
  blocked: "⊘",
  running: "▶",
  pending: "·",
  skipped: "↷",
  cancelled: "■",
};

const TERMINAL_COLORS: Record<StepState, "green" | "red" | "yellow" | "dim" | "cyan"> = {
  passed: "green",
  failed: "red",
  blocked: "yellow",
  running: "cyan",
  pending: "dim",
  skipped: "dim",
  cancelled: "red",
};

/** The state's mark (and, with `label`, its name) in its terminal colour. */
export function stateMark(state: StepState, chalk: ChalkInstance, label = false): string {
  return chalk[TERMINAL_COLORS[state]](label ? `${STATE_MARKS[state]} ${state}` : STATE_MARKS[state]);
}
