import { stateMark } from "../format/state-marks.js";
import { formatReason } from "../events/end-reason.js";
import type { ChalkInstance } from "chalk";
import type { RunState, StepRecord } from "../store/run-state.js";
import { totalUsage } from "../store/run-state.js";
import { formatDuration } from "../format/duration.js";
import { plainTable } from "./plain-table.js";
import type { Usage } from "../events/run-event.js";

export function formatUsage(usage: Usage | undefined): string {
  if (!usage) return "";
  const parts: string[] = [];
  if (usage.costUsd !== undefined) parts.push(`$${usage.costUsd.toFixed(usage.costUsd < 1 ? 4 : 2)}`);
  const tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  if (tokens > 0) parts.push(`${tokens.toLocaleString("en-US")} tok`);
  return parts.join(" ");
}

/** No rule between rows: a 30-step table should fit a screen. */
export const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

/** The step table shared by `ws run`'s summary and `ws status`. cli-table3 is told to use no colour of its own. */
export async function stepTable(
  state: RunState,
  chalk: ChalkInstance,
  options: { logs?: boolean; root?: string; rows?: (record: StepRecord) => boolean } = {},
): Promise<string> {
  const withUsage = Object.values(state.steps).some((r) => r.usage);
  const head = ["step", "state", "attempts", "duration", "reason", ...(withUsage ? ["cost/tokens"] : []), ...(options.logs ? ["log"] : [])].map((h) => chalk.bold(h));
  const rows: string[][] = [];
  for (const id of state.order) {
    const r = state.steps[id];
    if (!r || (options.rows && !options.rows(r))) continue;
    rows.push([
      id,
      stateMark(r.state, chalk, true),
      r.attempts > 0 ? String(r.attempts) : "",
      // A running step shows how long it has been going (ws status from another terminal).
      r.state === "running" && r.startedAt ? `${formatDuration(Date.now() - Date.parse(r.startedAt))} so far` : r.durationMs !== undefined && r.attempts > 0 ? formatDuration(r.durationMs) : "",
      r.state === "passed" || r.reason === undefined ? "" : formatReason(r.reason),
      ...(withUsage ? [formatUsage(r.usage)] : []),
      ...(options.logs ? [r.log && options.root ? `${options.root}/${r.log}` : (r.log ?? "")] : []),
    ]);
  }
  let text = plainTable(head, rows);
  if (text === undefined) {
    const { default: Table } = await import("cli-table3");
    const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
    table.push(...rows);
    text = table.toString();
  }
  const total = totalUsage(state);
  const footer = total ? `\ntotal cost/tokens: ${formatUsage(total)}` : "";
  return text + footer;
}
