import path from "node:path";
import type { CliContext } from "./context.js";
import { out, terminalWidth } from "./context.js";
import { wsPaths } from "../store/paths.js";
import type { LastRun } from "../store/query.js";
import { isUndone, stepRecords, type RunState, type StepRecord } from "../store/run-state.js";
import type { ChalkInstance } from "chalk";
import { stateMark } from "../format/state-marks.js";
import { formatReason } from "../events/end-reason.js";
import { waitingText } from "../report/waiting.js";
import { formatDuration } from "../format/duration.js";
import { formatUsage } from "../format/usage.js";
import { COMPACT, notSelected, UNSELECTED_ROWS } from "./summary-table.js";
import { fitColumns } from "./fit-columns.js";
import { plainTable } from "./plain-table.js";
import type { LiveSteps } from "../report/live-steps.js";
import type { EventTail } from "../store/event-log.js";
import type { RunEvent } from "../events/run-event.js";
import { progressInput, progressOf, stepShares } from "../report/progress.js";
import { listedWaves, runSpans, spanLines, type SpanTiming } from "../report/group-timing.js";

export interface StatusOptions {
  wsId?: string;
  json?: boolean;
  watch?: boolean;
  /** List every step, also the many a run did not select (see UNSELECTED_ROWS). */
  all?: boolean;
  /** The last run as text bars on a time axis instead of the table (`--json`: its layout). */
  timeline?: boolean;
}

/** Every workstream with a file or a state folder, with its last run. */
export async function readAllStatus(ctx: CliContext): Promise<Array<{ id: string; report: LastRun | undefined }>> {
  const { knownIds, lastRun } = await import("../store/query.js");
  return knownIds(ctx.cwd, ctx.dir).map((id) => ({ id, report: lastRun(ctx.cwd, id) }));
}

/** For a run in progress: its elapsed time, the share of the expected work done, and the ETA. */
function runProgress(state: RunState, interrupted: boolean): string {
  if (state.status !== "running" || interrupted) return "";
  const now = Date.now();
  const elapsed = now - Date.parse(state.startedAt);
  // The live view's figure, from the same state: weights and $WS_PROGRESS included.
  const p = progressOf(progressInput(state, now));
  const share = p.fraction !== undefined ? ` · ${Math.floor(p.fraction * 100)}% of the expected work done` : "";
  return ` · elapsed ${formatDuration(elapsed)}${share}${p.etaMs !== undefined ? ` · ETA ${formatDuration(p.etaMs)}` : ""}`;
}

/** `ws status` without an id: every workstream with its last run, and what each has to merge. */
async function overview(options: StatusOptions, ctx: CliContext, chalk: ChalkInstance): Promise<number> {
  const rows = await readAllStatus(ctx);
  if (options.json) {
    out(ctx, JSON.stringify(rows.map(({ id, report }) => ({ id, lastRun: report ? summarize(report) : null })), null, 2));
    return 0;
  }
  if (rows.length === 0) {
    out(ctx, `no workstreams in ${path.relative(ctx.cwd, ctx.dir) || "."} and no runs yet (try: ws init)`);
    return 0;
  }
  const cells = rows.map(({ id, report }) => {
    if (!report) return [id, chalk.dim("never run"), "", "", ""];
    const s = summarize(report);
    return [id, s.status, `${s.passed}/${s.total}`, s.startedAt.replace("T", " ").slice(0, 19), s.durationMs !== undefined ? formatDuration(s.durationMs) : ""];
  });
  const head = ["workstream", "last run", "steps passed", "started", "duration"];
  const width = terminalWidth(ctx);
  // The ids stay whole: when and how long give way.
  const fit = width === undefined ? { rows: [head, ...cells] } : fitColumns([head, ...cells], width, [{ drop: 3 }, { drop: 4 }]);
  const [shownHead = [], ...shown] = fit.rows;
  const boldHead = shownHead.map((h) => chalk.bold(h));
  // cli-table3 only for what plainTable cannot measure (wide characters): loading and laying it
  // out was a tenth of `ws status`.
  let text = plainTable(boldHead, shown);
  if (text === undefined) {
    const { default: Table } = await import("cli-table3");
    const table = new Table({ head: boldHead, style: { head: [], border: [] }, chars: COMPACT });
    table.push(...shown);
    text = table.toString();
  }
  out(ctx, text);
  const { mergeAdvice, pendingMerge, pendingMergeLine } = await import("./merge-hint.js");
  for (const { id, report } of rows) {
    const pending = report ? pendingMerge(await mergeAdvice(ctx, report.state)) : undefined;
    if (pending) out(ctx, pendingMergeLine(id, pending));
  }
  return 0;
}

/**
 * What each step still running (or cut off by a crash) did last, from its activity events: after
 * a kill -9 this is where each agent was. One line per step; the live view (`--watch`) has its own.
 */
function lastActivities(state: RunState, interrupted: boolean): string[] {
  const lines: string[] = [];
  for (const id of state.order) {
    const step = state.steps[id];
    // A crash leaves its steps cancelled as the report reads them (settleInterrupted), never ended.
    const cut = interrupted && step?.state === "cancelled" && step.endedAt === undefined;
    if (!step?.activity || (step.state !== "running" && !cut)) continue;
    const { at, attempt, text, usage } = step.activity;
    const spent = formatUsage(usage);
    lines.push(`  ${id} ${interrupted ? "was" : "is"} at (attempt ${attempt}, ${at.slice(11, 19)}): ${text}${spent ? ` · ${spent}` : ""}`);
  }
  return lines.length > 0 ? [interrupted ? "last activity of the interrupted steps:" : "latest activity:", ...lines] : [];
}

export async function statusCommand(options: StatusOptions, ctx: CliContext): Promise<number> {
  const { Chalk } = await import("chalk");
  const chalk = new Chalk({ level: ctx.color ? 1 : 0 });
  if (options.wsId === undefined && options.timeline) {
    const { UserError } = await import("../errors.js");
    throw new UserError("--timeline draws one workstream's last run: name it", { fix: "ws status <id> --timeline (ws status lists them)" });
  }
  if (options.wsId === undefined) return overview(options, ctx, chalk);
  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const { hasRun, lastRun } = await import("../store/query.js");
  const wsId = options.wsId;
  // An id with neither a file nor a run is a typo: the locator explains and suggests.
  if (!hasRun(ctx.cwd, wsId)) locateWorkstream(wsId, { dir: ctx.dir });
  if (options.timeline) return timelineStatus(options, ctx, chalk, wsId);

  const render = async (): Promise<Rendered> => {
    const report = lastRun(ctx.cwd, wsId);
    if (!report) return { text: `${wsId}: no run yet (start one with: ws run --ws-id ${wsId})`, running: false, json: JSON.stringify({ id: wsId, lastRun: null }), closing: [] };
    const { stepTable } = await import("./summary-table.js");
    const s = summarize(report);
    const running = report.state.status === "running" && !report.interrupted;
    const root = path.relative(ctx.cwd, wsPaths(ctx.cwd, wsId).root);
    const hidden = options.all ? 0 : stepRecords(report.state).filter(notSelected).length;
    const collapse = hidden > UNSELECTED_ROWS;
    const headline = `${wsId}: ${s.status} · run ${report.state.runId} · started ${s.startedAt.replace("T", " ").slice(0, 19)}${s.durationMs !== undefined ? ` · ${formatDuration(s.durationMs)}` : ""} · ${s.passed}/${s.total} passed${runProgress(report.state, report.interrupted)}`;
    const lines = [
      headline,
      await stepTable(report.state, chalk, { logs: true, root, width: terminalWidth(ctx), ...(collapse ? { rows: (r) => !notSelected(r) } : {}) }),
    ];
    const table = lines.length;
    if (collapse) lines.push(`${hidden} steps this run did not select are not listed (all of them: ws status --ws-id ${wsId} --all)`);
    // A plain loop: an array per step, for 50 000 steps of which a handful have outputs, was a
    // tenth of `ws status` (bench/scale.mjs).
    const outputs: string[] = [];
    const artifacts: string[] = [];
    for (const id of report.state.order) {
      const record = report.state.steps[id];
      const values = record?.outputs;
      if (values) for (const [k, v] of Object.entries(values)) outputs.push(`  ${id}.${k} = ${JSON.stringify(v)}`);
      if (record?.artifacts) artifacts.push(artifactLine(id, record.artifacts, path.relative(ctx.cwd, wsPaths(ctx.cwd, wsId).artifactsDir(id))));
    }
    if (outputs.length > 0) lines.push("outputs:", ...outputs);
    if (artifacts.length > 0) lines.push("artifacts:", ...artifacts);
    lines.push(...timingLines(report.state));
    const rollback = report.state.rollback;
    if (rollback) {
      const failedComp = rollback.steps.filter((id) => report.state.steps[id]?.compensation?.state === "failed");
      const what = rollback.state === "running" ? "in progress (continue with --resume)" : failedComp.length > 0 ? `done, compensation failed: ${failedComp.join(", ")}` : "done";
      lines.push(`rollback of ${rollback.steps.join(", ") || "no step"}: ${what}`);
    }
    const held = report.state.status === "held" ? report.state.order.filter((id) => report.state.steps[id]?.reason?.kind === "held") : [];
    if (held.length > 0) lines.push(chalk.yellow(`held at ${held.join(", ")} (approval rejected, nothing compensated); continue with: ws run --ws-id ${wsId} --resume --approve ${held.join(",")}`));
    if (report.interrupted) lines.push(chalk.yellow(`the run was interrupted (its process ${report.state.pid} is gone); continue with: ws run --ws-id ${wsId} --resume`));
    lines.push(...lastActivities(report.state, report.interrupted));
    // Only once the run has ended (its branch is still moving before); the same words as the run's summary.
    if (!running) {
      const { mergeAdvice, adviceLines } = await import("./merge-hint.js");
      lines.push(...(await adviceLines(await mergeAdvice(ctx, report.state))));
    }
    const closing = [headline, ...lines.slice(table)];
    return { text: lines.join("\n"), running, json: JSON.stringify({ ...withProgress(report.state), interrupted: report.interrupted }, null, 2), report, closing };
  };

  if (!options.watch) {
    const r = await render();
    out(ctx, options.json ? r.json : r.text);
    return 0;
  }
  const { EventTail } = await import("../store/event-log.js");
  const { LiveSteps } = await import("../report/live-steps.js");
  // What each running step does and spends comes from the event log, read as it grows.
  const tail = new EventTail(wsPaths(ctx.cwd, wsId).events);
  if (!ctx.interactive && !options.json) return watchChanges(ctx, chalk, render, tail);
  const live = new LiveSteps();
  let previous = "";
  for (;;) {
    const r = await render();
    for (const event of tail.read()) live.observe(event);
    const text = options.json ? r.json : r.text + (r.running ? await liveSection(live, terminalWidth(ctx) ?? 80, chalk) : "");
    if (text !== previous) {
      if (ctx.interactive && !options.json) ctx.stdout.write("\x1b[2J\x1b[H");
      out(ctx, text);
      previous = text;
    }
    if (!r.running) return 0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** `ws status --timeline`: drawn once, or with --watch redrawn in a terminal (and drawn once the run ended in a pipe). */
async function timelineStatus(options: StatusOptions, ctx: CliContext, chalk: ChalkInstance, wsId: string): Promise<number> {
  const { statusTimeline } = await import("./status-timeline.js");
  for (;;) {
    const view = await statusTimeline(ctx, wsId, chalk);
    const live = options.watch && view.running;
    if (ctx.interactive || !live) {
      if (options.watch && ctx.interactive && !options.json) ctx.stdout.write("\x1b[2J\x1b[H");
      out(ctx, options.json ? JSON.stringify(view.timeline ?? null, null, 2) : view.text);
    }
    if (!live) return 0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

interface Rendered {
  text: string;
  running: boolean;
  json: string;
  report?: LastRun;
  /** What follows the table (outputs, rollback, the merge advice), after the headline. */
  closing: string[];
}

/** The live view's lines under the table of a watched run: what each running step does and spends, as `ws run` shows them. */
async function liveSection(live: LiveSteps, width: number, chalk: ChalkInstance): Promise<string> {
  const { liveLines, runSpendText } = await import("../report/live-steps.js");
  const lines = liveLines(live, Date.now(), Math.max(20, width - 5), 20, chalk);
  if (lines.length === 0) return "";
  const spend = runSpendText(live);
  return `\nrunning now${spend ? ` · ${spend}` : ""}:\n${lines.map((l) => `  ${chalk.cyan("▸")} ${l}`).join("\n")}`;
}

/**
 * `ws status --watch` into a pipe or a CI log: the status once, then a line per step whose state
 * changed, the news among its activities as `ws run` prints them in a pipe (at most one line per
 * step per 10 s), and the headline and closing lines when the run ends. Redrawing the whole status
 * at every change (a running step's "so far" changes every second) made 418 lines of a 40 s run.
 */
async function watchChanges(ctx: CliContext, chalk: ChalkInstance, render: () => Promise<Rendered>, tail: EventTail): Promise<number> {
  const { ActivityThrottle, throttledLine } = await import("../report/activity-throttle.js");
  const seen = new Map<string, string>();
  let runId: string | undefined;
  let throttle = new ActivityThrottle();
  const activityLines = (events: RunEvent[], print: boolean) => {
    for (const event of events) {
      if (event.type === "run-start") throttle = new ActivityThrottle();
      else if (event.type === "step-end") throttle.end(event.step);
      else if (event.type === "activity") {
        const line = throttle.offer(event, Date.parse(event.at));
        if (line && print) out(ctx, `${event.at.slice(11, 23)} ${throttledLine(line)}`);
      }
    }
    const now = Date.now();
    for (const line of throttle.due(now)) if (print) out(ctx, `${new Date(now).toISOString().slice(11, 23)} ${throttledLine(line)}`);
  };
  for (;;) {
    const r = await render();
    const state = r.report?.state;
    if (state === undefined || state.runId !== runId) {
      out(ctx, r.text);
      // What happened before the table is in it: the activity lines start from here.
      activityLines(tail.read(), false);
      runId = state?.runId;
      seen.clear();
      for (const record of state ? stepRecords(state) : []) seen.set(record.id, changeKey(record));
    } else {
      activityLines(tail.read(), true);
      for (const record of stepRecords(state)) {
        const key = changeKey(record);
        if (seen.get(record.id) === key) continue;
        seen.set(record.id, key);
        out(ctx, `${new Date().toISOString().slice(11, 23)} ${record.id}: ${changeText(record, chalk)}`);
      }
      if (!r.running) for (const line of r.closing) out(ctx, line);
    }
    if (!r.running) return 0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** What a change line reports: the state, an approval or quota wait, a new attempt. */
function changeKey(record: StepRecord): string {
  return `${record.state} ${record.waiting?.reason ?? ""} ${record.attempts}`;
}

function changeText(record: StepRecord, chalk: ChalkInstance): string {
  if (record.waiting && (record.state === "running" || record.state === "pending")) return `⏸ ${waitingText(record.waiting)}`;
  if (record.state === "running") return `${stateMark("running", chalk, true)} (attempt ${record.attempts})`;
  if (isUndone(record)) return chalk.magenta("⟲ undone (compensated)");
  const why = record.state === "passed" || record.reason === undefined ? "" : ` (${formatReason(record.reason)})`;
  const took = record.durationMs !== undefined && record.attempts > 0 ? `, ${formatDuration(record.durationMs)}` : "";
  return `${stateMark(record.state, chalk, true)}${why}${took}`;
}

function summarize(report: LastRun) {
  const records = stepRecords(report.state);
  return {
    status: report.status,
    runId: report.state.runId,
    startedAt: report.state.startedAt,
    durationMs: report.state.durationMs,
    passed: records.filter((r) => r.state === "passed").length,
    total: records.length,
  };
}

/**
 * The state as `--json` gives it: each selected step with its `weight` (its share of the run,
 * summing to 1) and `progress` (0..1: ended 1, running what it wrote to $WS_PROGRESS), and the
 * run's `progress` (done, total, fraction, etaMs) as the live view computes it.
 */
function withProgress(state: RunState): Omit<RunState, "groups" | "waves"> & { progress?: ReturnType<typeof progressOf> & { elapsedMs?: number | undefined }; groups?: SpanTiming[]; waves?: SpanTiming[] } {
  const now = Date.now();
  const input = progressInput(state, now);
  const shares = stepShares(input);
  const steps = { ...state.steps };
  for (const [id, share] of shares) if (steps[id]) steps[id] = { ...steps[id], ...share };
  const progress = progressOf(input);
  // Once the run ended there is no ETA to give (progressOf says 0 for a run whose steps all ended).
  const spans = runSpans(state);
  return {
    ...state,
    steps,
    // With the elapsed time the ETA was computed at: elapsed + ETA is the run's expected length.
    progress: state.status === "running" ? { ...progress, elapsedMs: input.elapsedMs } : { ...progress, etaMs: undefined },
    // Each group's and wave's members with their start, end and duration.
    groups: state.groups ? spans.groups : undefined,
    waves: state.waves ? spans.waves : undefined,
  };
}

/** Each step group's and each wave's start, end and duration (waves only when one holds several steps). */
/** One passed step's artifacts: where they are and the first few names. */
function artifactLine(id: string, files: string[], dir: string): string {
  const shown = files.slice(0, 4).join(", ") + (files.length > 4 ? `, +${files.length - 4} more` : "");
  return `  ${id}: ${dir}/ (${shown})`;
}

function timingLines(state: RunState): string[] {
  const { groups, waves } = runSpans(state);
  return [...spanLines("groups", groups, formatDuration), ...spanLines("waves", listedWaves(waves), formatDuration)];
}
