import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { out } from "./context.js";
import { UserError, isUserError } from "../errors.js";
import { wsPaths } from "../store/paths.js";
import type { Workstream } from "../workstream/model.js";

export interface ReportOptions {
  wsId: string;
  output?: string | undefined;
  /** html (the page) or trace (Chrome Trace Event JSON, for Perfetto and chrome://tracing). */
  format?: string | undefined;
  watch?: boolean | undefined;
}

/** How often --watch looks at the event log, and how often the page it writes reloads itself. */
const WATCH_POLL_MS = 500;
const PAGE_REFRESH_S = 2;

/**
 * `ws report`: the last run as one self-contained HTML page (default `.worktrees/<id>/report.html`).
 * A running run gives a snapshot; `--watch` rewrites the page as events arrive, until it ends.
 */
export async function reportCommand(options: ReportOptions, ctx: CliContext): Promise<number> {
  const { hasRun } = await import("../store/query.js");
  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const wsId = options.wsId;
  if (!hasRun(ctx.cwd, wsId)) {
    // An id with neither a file nor a run is a typo: the locator explains and suggests.
    locateWorkstream(wsId, { dir: ctx.dir });
    throw new UserError(`${wsId} has not run yet: there is no run to report`, { fix: `start one with: ws run ${wsId}` });
  }
  const format = options.format ?? "html";
  if (format !== "html" && format !== "trace") throw new UserError(`unknown report format "${format}"`, { fix: "use --format html or --format trace" });
  const target = options.output !== undefined ? path.resolve(ctx.base, options.output) : path.join(wsPaths(ctx.cwd, wsId).root, format === "trace" ? "trace.json" : "report.html");
  const workstream = await readWorkstream(ctx, wsId);
  if (format === "trace") {
    if (options.watch) throw new UserError("--watch rewrites the HTML page only", { fix: "leave out --watch, or use --format html" });
    writeAtomically(target, await traceOf(ctx, wsId, workstream));
    out(ctx, target);
    return 0;
  }

  const write = async (refresh: boolean): Promise<{ running: boolean }> => {
    const { readReportData } = await import("../report/report-data.js");
    const { renderHtmlReport } = await import("../report/html-report.js");
    const { version } = await import("../version.js");
    const data = await readReportData({ projectRoot: ctx.cwd, wsId, workstream, env: ctx.env });
    if (!data) throw new UserError(`${wsId} has not run yet: its event log holds no run`, { fix: `start one with: ws run ${wsId}` });
    writeAtomically(target, renderHtmlReport(data, { version: version(), refreshSeconds: refresh ? PAGE_REFRESH_S : undefined }));
    return { running: data.status === "running" };
  };

  let { running } = await write(Boolean(options.watch));
  out(ctx, target);
  if (!options.watch || !running) return 0;
  const events = wsPaths(ctx.cwd, wsId).events;
  let seen = fileMark(events);
  while (running) {
    await new Promise((resolve) => setTimeout(resolve, WATCH_POLL_MS));
    const mark = fileMark(events);
    // A run whose process died writes nothing more: the page must still say it is over.
    if (mark === seen && !(await runGone(ctx, wsId))) continue;
    seen = mark;
    ({ running } = await write(true));
  }
  if (!ctx.quiet) out(ctx, `the run ended; ${target} shows it whole`);
  return 0;
}

/**
 * The workstream as its file says now, for the graph and the critical path. A report of a run
 * whose file has since gone or broken still shows what the events hold, so that is no error.
 */
async function readWorkstream(ctx: CliContext, wsId: string): Promise<Workstream | undefined> {
  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const { loadValidWorkstream } = await import("../workstream/load.js");
  try {
    return (await loadValidWorkstream(locateWorkstream(wsId, { dir: ctx.dir }), { cwd: ctx.cwd, env: ctx.env })).workstream;
  } catch (error) {
    if (isUserError(error)) return undefined;
    throw error;
  }
}

/** The last run's events as a trace: slices on one thread per worker lane (src/report/trace.ts). */
async function traceOf(ctx: CliContext, wsId: string, workstream: Workstream | undefined): Promise<string> {
  const { readEvents } = await import("../store/event-log.js");
  const { buildTimeline, lastRunEvents, stepDeps } = await import("../report/timeline.js");
  const { renderTrace } = await import("../report/trace.js");
  const { buildGraph } = await import("../graph/graph.js");
  const events = lastRunEvents(readEvents(wsPaths(ctx.cwd, wsId).events).events);
  if (events.length === 0) throw new UserError(`${wsId} has not run yet: its event log holds no run`, { fix: `start one with: ws run ${wsId}` });
  // A run still going ends its open slices now; one whose process is gone, at its last event.
  const running = !(await runGone(ctx, wsId));
  const timeline = buildTimeline({ events, deps: workstream ? stepDeps(buildGraph(workstream)) : undefined, now: running ? Date.now() : undefined });
  return JSON.stringify(renderTrace(timeline)) + "\n";
}

async function runGone(ctx: CliContext, wsId: string): Promise<boolean> {
  const { lastRun } = await import("../store/query.js");
  const run = lastRun(ctx.cwd, wsId);
  return run === undefined || run.interrupted || run.state.status !== "running";
}

function fileMark(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}` : "";
}

/** A browser reloading the page (or a CI upload) never reads half a file. */
function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new UserError(`cannot write the report to ${file}: ${code || String(error)}`, { fix: "choose another file with -o FILE" });
  }
}
