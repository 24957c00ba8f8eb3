import { stateMark } from "../format/state-marks.js";
import { attemptsCell } from "../format/attempts.js";
import { formatReason } from "../events/end-reason.js";
import { waitingText } from "../report/waiting.js";
import { formatUsage } from "../format/usage.js";
import type { ChalkInstance } from "chalk";
import type { RunState, StepRecord } from "../store/run-state.js";
import { stepRecords, totalUsage } from "../store/run-state.js";
import { formatDuration } from "../format/duration.js";
import { plainTable } from "./plain-table.js";
import { stripAnsi } from "../format/ansi.js";



/** The reason code and its one-line message, kept short enough for a table cell. */
function withDetail(reason: string, detail: string | undefined): string {
  if (!detail) return reason;
  const line = stripAnsi(detail.split("\n")[0] ?? "");
  return `${reason}: ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`;
}

/** No rule between rows: a 30-step table should fit a screen. */
export const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

/** A step this run did not select and that has no result of an earlier run: it is not waiting for anything. */
export function notSelected(record: StepRecord): boolean {
  return record.state === "pending" && !record.selected;
}

/**
 * Past this many, the steps a run did not select are counted instead of listed: `--only` of 3
 * steps among 50 000 would otherwise print 49 997 rows of "– not selected" around the 3 that ran.
 */
export const UNSELECTED_ROWS = 50;

function stateCell(record: StepRecord, chalk: ChalkInstance): string {
  return notSelected(record) ? chalk.dim("– not selected") : stateMark(record.state, chalk, true);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (text: string): number => [...text.replace(ANSI, "")].length;

/**
 * Cuts the cuttable columns in order (the reason with its detail, then the log, then the step) so a table of these rows fits `width`
 * terminal columns: a wrapped row breaks the table's lines apart. A cut path keeps its end (the
 * file name), a cut reason its start. Only plain cells are cut; the state column keeps its colour.
 */
export function fitRows(rows: string[][], width: number, cuttable: Array<{ column: number; keep: "start" | "end"; min?: number }>): string[][] {
  const columns = rows[0]?.length ?? 0;
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...rows.map((r) => visible(r[i] ?? ""))));
  // cli-table3: one space of padding each side, one border per column plus one.
  const total = () => widths.reduce((sum, w) => sum + w + 2, 0) + columns + 1;
  for (const { column, keep, min = 8 } of cuttable) {
    const over = total() - width;
    if (over <= 0) break;
    const target = Math.max(min, (widths[column] ?? 0) - over);
    if (target >= (widths[column] ?? 0)) continue;
    widths[column] = target;
    for (const row of rows) {
      const cell = row[column] ?? "";
      if (visible(cell) <= target) continue;
      const chars = [...cell.replace(ANSI, "")];
      row[column] = keep === "end" ? "…" + chars.slice(chars.length - target + 1).join("") : chars.slice(0, target - 1).join("") + "…";
    }
  }
  return rows;
}

/** The step table shared by `ws run`'s summary and `ws status`. cli-table3 is told to use no colour of its own. */
export async function stepTable(
  state: RunState,
  chalk: ChalkInstance,
  options: { logs?: boolean; root?: string; rows?: (record: StepRecord) => boolean; width?: number | undefined } = {},
): Promise<string> {
  const records = stepRecords(state);
  const withUsage = records.some((r) => r.usage);
  const plainHead = ["step", "state", "attempts", "duration", "reason", ...(withUsage ? ["cost/tokens"] : []), ...(options.logs ? ["log"] : [])];
  const rows: string[][] = [];
  for (const r of records) {
    if (options.rows && !options.rows(r)) continue;
    rows.push([
      r.id,
      // Between a quota answer and its next attempt the step is neither running nor merely queued.
      r.waiting && (r.state === "running" || r.state === "pending") ? chalk.yellow(`⏸ ${waitingText(r.waiting)}`) : stateCell(r, chalk),
      attemptsCell(r.attempts, r.interrupted),
      // A running step shows how long it has been going (ws status from another terminal).
      r.state === "running" && r.startedAt ? `${formatDuration(Date.now() - Date.parse(r.startedAt))} so far` : r.durationMs !== undefined && r.attempts > 0 ? formatDuration(r.durationMs) : "",
      r.state === "passed" || r.reason === undefined ? "" : withDetail(formatReason(r.reason), r.detail),
      ...(withUsage ? [formatUsage(r.usage)] : []),
      ...(options.logs ? [r.log && options.root ? `${options.root}/${r.log}` : (r.log ?? "")] : []),
    ]);
  }
  // The reason keeps its code and the start of its detail; the log keeps its file name.
  const cuttable = [
    { column: 4, keep: "start" as const, min: 16 },
    ...(options.logs ? [{ column: plainHead.length - 1, keep: "end" as const, min: 16 }] : []),
    { column: 4, keep: "start" as const },
    ...(options.logs ? [{ column: plainHead.length - 1, keep: "end" as const }] : []),
    { column: 0, keep: "start" as const },
  ];
  const fitted = options.width ? fitRows([plainHead, ...rows], options.width, cuttable).slice(1) : rows;
  const head = plainHead.map((h) => chalk.bold(h));
  let text = plainTable(head, fitted);
  if (text === undefined) {
    const { default: Table } = await import("cli-table3");
    const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
    table.push(...fitted);
    text = table.toString();
  }
  const total = totalUsage(state);
  const footer = total ? `\ntotal cost/tokens: ${formatUsage(total)}` : "";
  return text + footer;
}

/** The run's wall time beside its steps' summed times, and the estimate it had. */
export function timesLine(wsId: string, state: RunState): string {
  const total = state.durationMs ?? 0;
  const summed = state.sequentialMs ?? 0;
  // Below 1.1x (tiny or resumed runs, one step at a time) the ratio is start-up overhead, not speed.
  // The sum is no measured one-at-a-time run (steps sharing the machine each run slower), so the
  // label says what the ratio compares.
  const ratio = total > 0 ? summed / total : 0;
  const speedup = ratio >= 1.1 ? ` (${ratio.toFixed(2)}x vs steps summed)` : "";
  // The estimate beside the real time: how far the history-based ETA can be trusted next time.
  const estimate = state.estimateMs !== undefined ? `; estimated ${formatDuration(state.estimateMs)}, took ${formatDuration(total)}` : "";
  return `${wsId}: ${state.status} in ${formatDuration(total)}; step times summed: ${formatDuration(summed)}${speedup}${estimate}`;
}
