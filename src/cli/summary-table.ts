import { stateMark } from "../format/state-marks.js";
import { formatReason } from "../events/end-reason.js";
import { waitingLabel } from "../report/waiting.js";
import { formatUsage } from "../format/usage.js";
import type { ChalkInstance } from "chalk";
import type { RunState, StepRecord } from "../store/run-state.js";
import { totalUsage } from "../store/run-state.js";
import { formatDuration } from "../format/duration.js";



/** The reason code and its one-line message, kept short enough for a table cell. */
function withDetail(reason: string, detail: string | undefined): string {
  if (!detail) return reason;
  const line = detail.split("\n")[0] ?? "";
  return `${reason}: ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`;
}

/** No rule between rows: a 30-step table should fit a screen. */
export const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

/** The step table shared by `ws run`'s summary and `ws status`. cli-table3 is told to use no colour of its own. */
export async function stepTable(
  state: RunState,
  chalk: ChalkInstance,
  options: { logs?: boolean; root?: string; rows?: (record: StepRecord) => boolean } = {},
): Promise<string> {
  const { default: Table } = await import("cli-table3");
  const withUsage = Object.values(state.steps).some((r) => r.usage);
  const head = ["step", "state", "attempts", "duration", "reason", ...(withUsage ? ["cost/tokens"] : []), ...(options.logs ? ["log"] : [])];
  const table = new Table({ head: head.map((h) => chalk.bold(h)), style: { head: [], border: [] }, chars: COMPACT });
  for (const id of state.order) {
    const r = state.steps[id];
    if (!r || (options.rows && !options.rows(r))) continue;
    table.push([
      id,
      // Between a quota answer and its next attempt the step is neither running nor merely queued.
      r.waiting && (r.state === "running" || r.state === "pending") ? chalk.yellow(`⏸ ${waitingLabel(r.waiting.until)}`) : stateMark(r.state, chalk, true),
      r.attempts > 0 ? String(r.attempts) : "",
      r.durationMs !== undefined && r.attempts > 0 ? formatDuration(r.durationMs) : "",
      r.state === "passed" || r.reason === undefined ? "" : withDetail(formatReason(r.reason), r.detail),
      ...(withUsage ? [formatUsage(r.usage)] : []),
      ...(options.logs ? [r.log && options.root ? `${options.root}/${r.log}` : (r.log ?? "")] : []),
    ]);
  }
  const total = totalUsage(state);
  const footer = total ? `\ntotal cost/tokens: ${formatUsage(total)}` : "";
  return table.toString() + footer;
}
