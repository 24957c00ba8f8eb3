import { stateMark } from "../format/state-marks.js";
import { attemptsCell } from "../format/attempts.js";
import { formatReason, reasonText, type EndReason } from "../events/end-reason.js";
import { waitingText } from "../report/waiting.js";
import { formatUsage } from "../format/usage.js";
import type { ChalkInstance } from "chalk";
import type { RunState, StepRecord } from "../store/run-state.js";
import { isUndone, stepRecords, totalUsage } from "../store/run-state.js";
import type { History } from "../store/history.js";
import { formatDuration } from "../format/duration.js";
import { timeSavedText } from "../events/time-saved.js";
import { plainTable } from "./plain-table.js";
import { elide, fitColumns, type Fitted } from "./fit-columns.js";



/** The reason code and its one-line message, kept short enough for a table cell. */
function withDetail(reason: EndReason, detail: string | undefined): string {
  const text = reasonText(reason, detail);
  const limit = formatReason(reason).length + 2 + 100;
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
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
  if (notSelected(record)) return chalk.dim("– not selected");
  return isUndone(record) ? chalk.magenta("⟲ undone") : stateMark(record.state, chalk, true);
}

const ATTEMPTS = 2;
const REASON = 4;
const columnsOf = (text: string): number => [...text].length;

/**
 * The step table's rows (head first) in `width` columns, when there is a width to fit (a
 * terminal, or $COLUMNS): the reason gives way first, then the log column goes (ws logs finds a
 * step's log), then the reason moves under the table, then a column of first attempts goes.
 * The step ids stay whole.
 */
export function fitStepRows(rows: string[][], width: number | undefined, logs: boolean): Fitted {
  if (width === undefined) return { rows, dropped: new Set() };
  const log = (rows[0]?.length ?? 0) - 1;
  // A column of 1s says nothing a row of passes does not: it goes before the ids would wrap.
  const firstTries = rows.slice(1).every((row) => (row[ATTEMPTS] ?? "") === "1" || row[ATTEMPTS] === "");
  return fitColumns(rows, width, [
    { cut: REASON, keep: "start", min: 24 },
    ...(logs ? [{ drop: log }] : []),
    { cut: REASON, keep: "start", min: 16 },
    { drop: REASON },
    ...(firstTries ? [{ drop: ATTEMPTS }] : []),
  ]);
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
      r.state === "passed" || r.reason === undefined ? "" : withDetail(r.reason, r.detail),
      ...(withUsage ? [formatUsage(r.usage)] : []),
      ...(options.logs ? [r.log && options.root ? `${options.root}/${r.log}` : (r.log ?? "")] : []),
    ]);
  }
  const head = plainHead.map((h) => chalk.bold(h));
  const fit = fitStepRows([plainHead, ...rows], options.width, Boolean(options.logs));
  const fitted = fit.rows.slice(1);
  const shownHead = head.filter((_, i) => !fit.dropped.has(i));
  let text = plainTable(shownHead, fitted);
  if (text === undefined) {
    const { default: Table } = await import("cli-table3");
    const table = new Table({ head: shownHead, style: { head: [], border: [] }, chars: COMPACT });
    table.push(...fitted);
    text = table.toString();
  }
  // What no longer fitted in the table, under it: the reasons a line each, the way to the logs.
  const under: string[] = [];
  if (fit.dropped.has(REASON)) {
    const width = options.width ?? Infinity;
    for (const [id = "", , , , reason = ""] of rows) {
      if (reason === "") continue;
      // A reason that does not fit beside its step gets a line of its own, the width of the terminal.
      if (columnsOf(id) + 2 + columnsOf(reason) <= width) under.push(`${id}: ${reason}`);
      else under.push(`${id}:`, elide(`  ${reason}`, width));
    }
  }
  if (options.logs && fit.dropped.has(plainHead.length - 1)) under.push(`logs: ws logs ${state.wsId} --step <step>`);
  if (under.length > 0) text += "\n" + under.join("\n");
  const total = totalUsage(state);
  const footer = total ? `\ntotal cost/tokens: ${formatUsage(total)}` : "";
  return text + footer;
}

/**
 * The run's wall time beside its steps' summed times, and the estimate it had. The sum is no
 * measured one-at-a-time run (steps sharing the machine each run slower), so the speed-up says
 * what it compares: a full one-worker run of the same file when history has one, else the sum.
 */
export function timesLine(wsId: string, state: RunState, history?: Pick<History, "oneWorker">): string {
  const total = state.durationMs ?? 0;
  const summed = state.sequentialMs ?? 0;
  // Below 1.1x (tiny or resumed runs, one step at a time) the ratio is start-up overhead, not speed.
  const speedup = (base: number) => (total > 0 && base / total >= 1.1 ? `, ${(base / total).toFixed(2)}x this run's time` : "");
  const one = history?.oneWorker;
  const comparable = one !== undefined && one.hash === state.hash && one.runId !== state.runId && stepRecords(state).every((r) => r.selected);
  const measured = comparable ? `; a one-worker run took ${formatDuration(one.wallMs)}${speedup(one.wallMs)}` : "";
  const sum = `; step times summed: ${formatDuration(summed)}${comparable ? "" : speedup(summed)}`;
  // The estimate beside the real time: how far the history-based ETA can be trusted next time
  // (not for a run cut short by Ctrl-C: "estimated 18s, took 7s" would read as a fast run).
  const estimate = state.estimateMs !== undefined && state.status !== "cancelled" ? `; estimated ${formatDuration(state.estimateMs)}, took ${formatDuration(total)}` : "";
  // The seeds' "Time Saved" and parallel efficiency, once steps did overlap: a one-step run or a
  // chain saved nothing, and "saved 0ms; efficiency 10%" would only repeat its start-up time.
  const saved = state.timeSaved && state.timeSaved.savedMs > 0 ? `; ${timeSavedText(state.timeSaved)}` : "";
  return `${wsId}: ${state.status} in ${formatDuration(total)}${measured}${sum}${saved}${estimate}`;
}
