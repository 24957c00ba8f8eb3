import type { ChalkInstance } from "chalk";
import type { CliContext } from "./context.js";
import { terminalWidth } from "./context.js";
import type { Timeline } from "../report/timeline.js";

/** Columns for a timeline piped without $COLUMNS: bars need some width, unlike a table's lines. */
const PIPE_WIDTH = 100;

export interface TimelineView {
  /** Undefined when the workstream never ran. */
  timeline: Timeline | undefined;
  text: string;
  running: boolean;
}

/**
 * `ws status --timeline`: the last run's events drawn as bars (src/report/timeline-text.ts).
 * The dependencies for the critical path come from the workstream file when it still loads; a
 * run whose file is gone or broken is drawn without one.
 */
export async function statusTimeline(ctx: CliContext, wsId: string, chalk: ChalkInstance): Promise<TimelineView> {
  const { lastRun } = await import("../store/query.js");
  const { readEvents } = await import("../store/event-log.js");
  const { wsPaths } = await import("../store/paths.js");
  const { buildTimeline, lastRunEvents } = await import("../report/timeline.js");
  const report = lastRun(ctx.cwd, wsId);
  const events = lastRunEvents(readEvents(wsPaths(ctx.cwd, wsId).events).events);
  if (!report || events.length === 0) return { timeline: undefined, text: `${wsId}: no run yet (start one with: ws run --ws-id ${wsId})`, running: false };
  const running = report.state.status === "running" && !report.interrupted;
  // An interrupted run's bars end at its last event, not now: nothing has run since.
  const timeline = buildTimeline({ events, deps: await dependencies(ctx, wsId), now: running ? Date.now() : undefined });
  const { renderTimelineText } = await import("../report/timeline-text.js");
  const text = renderTimelineText(timeline, { width: terminalWidth(ctx) ?? PIPE_WIDTH, chalk, status: report.interrupted ? "interrupted" : undefined });
  return { timeline, text, running };
}

async function dependencies(ctx: CliContext, wsId: string): Promise<Record<string, string[]> | undefined> {
  const { listWorkstreamFiles, stemOf } = await import("../workstream/locate-file.js");
  const file = listWorkstreamFiles(ctx.dir).find((f) => stemOf(f) === wsId);
  if (file === undefined) return undefined;
  const { loadWorkstream } = await import("../workstream/load.js");
  const loaded = await loadWorkstream(file, { cwd: ctx.cwd, env: ctx.env });
  if (!loaded.ok) return undefined;
  const { buildGraph } = await import("../graph/graph.js");
  const { stepDeps } = await import("../report/timeline.js");
  return stepDeps(buildGraph(loaded.workstream));
}
