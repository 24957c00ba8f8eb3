import path from "node:path";
import fs from "node:fs";
import type { CliContext } from "./context.js";
import { err, out } from "./context.js";
import { UserError } from "../errors.js";
import type { RunEvent } from "../events/run-event.js";
import { formatDuration } from "../report/duration.js";

const SUMMARY_ROWS = 50;

export interface RunCommandOptions {
  wsId: string;
  dryRun?: boolean;
  resume?: boolean;
  force?: boolean;
  only?: string[];
  from?: string;
  maxWorkers?: number;
  json?: boolean;
  junit?: string;
  summary?: string;
  order?: "critical-path" | "fifo";
}

export async function runCommand(options: RunCommandOptions, ctx: CliContext): Promise<number> {
  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const { loadValidWorkstream } = await import("../workstream/load.js");
  const file = locateWorkstream(options.wsId, { dir: ctx.dir });
  const { workstream: ws, warnings } = await loadValidWorkstream(file, { cwd: ctx.cwd, env: ctx.env });
  if (warnings.length > 0 && !ctx.quiet && !options.json) {
    const { formatDiagnostics } = await import("./format-diagnostics.js");
    ctx.stderr.write(formatDiagnostics(warnings, { color: ctx.color, cwd: ctx.cwd }));
  }
  const { runWorkstream, dryRun } = await import("../engine/run-workstream.js");

  if (options.dryRun) {
    const { plan, selected } = dryRun(ctx.cwd, ws, options.maxWorkers, options.only, options.from);
    if (options.json) {
      out(ctx, JSON.stringify({ ...plan, selected, priority: undefined }, null, 2));
      return 0;
    }
    out(ctx, `plan for ${ws.id}: ${selected.length} steps, ${plan.maxWorkers} workers (dry run: nothing runs)`);
    plan.waves.forEach((wave, k) => out(ctx, `  wave ${k + 1}: ${wave.join(", ")}`));
    out(ctx, `  critical path: ${plan.criticalPath.join(" → ")}${plan.criticalPathMs !== undefined ? ` (${formatDuration(plan.criticalPathMs)})` : ""}`);
    out(ctx, plan.estimateMs !== undefined
      ? `  estimate: ${formatDuration(plan.estimateMs)} = max(critical path ${formatDuration(plan.criticalPathMs)}, work ${formatDuration(plan.totalWorkMs)} / ${plan.maxWorkers} workers)`
      : "  estimate: unknown until a first run has recorded step durations");
    return 0;
  }

  const githubLines = ctx.env.GITHUB_ACTIONS === "true" && !options.json ? (await import("../report/github-actions.js")).githubActionsLines : undefined;
  const { RunReporter } = await import("./run-reporter.js");
  const reporter = await RunReporter.create(ctx, Boolean(options.json), githubLines);
  const events: RunEvent[] = [];
  const keepEvents = Boolean(options.junit);

  // Ctrl-C / SIGTERM: stop starting steps, kill running ones (the engine aborts their groups),
  // flush state, exit 130/143. A second signal kills every group at once.
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      void import("../proc/live-groups.js").then(({ killAllLiveGroups }) => killAllLiveGroups("SIGKILL"));
      return;
    }
    received = signal;
    if (reporter.mode !== "json") err(ctx, `\nws: ${signal} received: stopping running steps (state is saved; continue with ws run --ws-id ${ws.id} --resume)`);
    controller.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let result;
  try {
    result = await runWorkstream({
      cwd: ctx.cwd,
      workstream: ws,
      env: ctx.env,
      resume: options.resume,
      force: options.force,
      only: options.only,
      from: options.from,
      maxWorkers: options.maxWorkers,
      order: options.order,
      signal: controller.signal,
      onEvent: (event) => {
        if (keepEvents) events.push(event);
        reporter.onEvent(event);
      },
    });
  } finally {
    reporter.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  if (result.kind === "locked") {
    err(ctx, `ws: another run of ${ws.id} is in progress (pid ${result.holder.pid} on ${result.holder.host}, since ${result.holder.startedAt})`);
    err(ctx, `  fix: wait for it (ws status --ws-id ${ws.id} --watch), or stop it; lock file: ${path.relative(ctx.cwd, result.lockFile)}`);
    return 3;
  }
  const { state } = result;
  const exitCode = result.exitCode;

  if (options.junit) {
    const { renderJunit } = await import("../report/junit.js");
    writeReport(path.resolve(ctx.cwd, options.junit), renderJunit(ws, events));
  }
  const summaryTargets = [options.summary && path.resolve(ctx.cwd, options.summary), ctx.env.GITHUB_STEP_SUMMARY].filter((f): f is string => Boolean(f));
  if (summaryTargets.length > 0) {
    const { renderMarkdownSummary } = await import("../report/markdown-summary.js");
    const { workstreamView } = await import("./graph.js");
    const { renderMermaid } = await import("../render/mermaid.js");
    const mermaid = renderMermaid(workstreamView(ws, ctx.cwd, state));
    const text = renderMarkdownSummary(ws, state, mermaid);
    if (options.summary) writeReport(path.resolve(ctx.cwd, options.summary), text);
    if (ctx.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(ctx.env.GITHUB_STEP_SUMMARY, text + "\n");
  }

  if (options.json) return exitCode;
  if (!ctx.quiet) {
    const { Chalk } = await import("chalk");
    const chalk = new Chalk({ level: ctx.color ? 1 : 0 });
    const { stepTable } = await import("./summary-table.js");
    out(ctx);
    // A table of hundreds of passed steps helps nobody (and cli-table3's layout is quadratic):
    // past SUMMARY_ROWS only the steps that need attention are listed; ws status has them all.
    const passed = Object.values(state.steps).filter((r) => r.state === "passed").length;
    const trim = state.order.length > SUMMARY_ROWS;
    if (!trim || passed < state.order.length) out(ctx, await stepTable(state, chalk, trim ? { rows: (r) => r.state !== "passed" } : {}));
    if (trim) out(ctx, `${passed} passed step${passed === 1 ? "" : "s"} not listed (all of them: ws status --ws-id ${ws.id})`);
  }
  const total = state.durationMs ?? 0;
  const sequential = state.sequentialMs ?? 0;
  const speedup = total > 0 && sequential > 0 ? ` (${(sequential / total).toFixed(2)}x)` : "";
  out(ctx, `${ws.id}: ${state.status} in ${formatDuration(total)}; one at a time the steps took ${formatDuration(sequential)}${speedup}`);
  if (result.branch) out(ctx, `work is on branch ${result.branch}; merge it with: git merge ${result.branch}`);
  if (exitCode !== 0) out(ctx, `details: ws status --ws-id ${ws.id}, ws logs --ws-id ${ws.id} --step <id>; continue with: ws run --ws-id ${ws.id} --resume`);
  return exitCode;
}

function writeReport(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  } catch (error) {
    throw new UserError(`cannot write ${file}: ${(error as Error).message}`);
  }
}
