import path from "node:path";
import { steadyYoungGeneration, youngGenerationFor } from "./young-generation.js";
import { holdOptimizerFor } from "../proc/optimizer-hold.js";
import type { CliContext } from "./context.js";
import { err, out, terminalWidth } from "./context.js";
import { UserError } from "../errors.js";
import type { RunListener } from "../events/listener.js";
import type { RunOutcome } from "../engine/run-workstream.js";
import type { UnknownStep } from "../engine/select.js";
import type { Plan } from "../engine/plan.js";
import type { Workstream } from "../workstream/model.js";
import type { RunState } from "../store/run-state.js";
import { formatDuration } from "../format/duration.js";
import { checkReportTarget } from "./report-targets.js";

const SUMMARY_ROWS = 50;

export interface RunCommandOptions {
  wsId: string;
  dryRun?: boolean;
  resume?: boolean;
  rollback?: boolean;
  force?: boolean;
  rebase?: boolean;
  only?: string[];
  from?: string;
  base?: string;
  withDeps?: boolean;
  /** Steps whose approval gates pass without asking, or ["all"]. */
  approve?: string[];
  maxWorkers?: number;
  json?: boolean;
  junit?: string;
  summary?: string;
  order?: "critical-path" | "fifo";
  /** Show each running step's output live, `[step] line` (not with --json). */
  stream?: boolean;
}

export async function runCommand(options: RunCommandOptions, ctx: CliContext): Promise<number> {
  if (options.rebase && !options.resume) {
    throw new UserError("--rebase goes with --resume: it moves the unfinished steps of the last run onto the working tree as it is now", { fix: "add --resume, or drop --rebase (a run without --resume always starts from the working tree as it is)" });
  }
  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const { loadValidWorkstream } = await import("../workstream/load.js");
  const file = locateWorkstream(options.wsId, { dir: ctx.dir });
  // The spawn server's start-up (python's ~10 ms) overlaps loading and checking the file, instead
  // of the first step waiting for it (bench/NOTES.md, issue 32); it is the one the engine then uses,
  // and it exits with ws if the run never starts.
  if (!options.dryRun) (await import("../proc/spawn-server.js")).spawnServer();
  youngGenerationFor(file);
  holdOptimizerFor(file);
  const { workstream: ws, warnings } = await loadValidWorkstream(file, { cwd: ctx.cwd, env: ctx.env });
  if (warnings.length > 0 && !ctx.quiet && !options.json) {
    const { formatDiagnostics } = await import("./format-diagnostics.js");
    ctx.stderr.write(formatDiagnostics(warnings, { color: ctx.color, cwd: ctx.cwd }));
  }
  if (options.dryRun) return dryRunCommand(options, ws, ctx);
  checkReportTargets(options, ctx);
  const preApproved = await approvedAhead(options, ws);
  const { checkRun } = await import("./run-checks.js");
  if (!ctx.quiet) for (const line of checkRun(ctx.cwd, ws, options, ctx.env).unmet) err(ctx, `ws: warning: ${line}`);

  steadyYoungGeneration();
  const { runWorkstream } = await import("../engine/run-workstream.js");
  const { RunReporter } = await import("./run-reporter.js");
  const { limitsOf } = await import("../report/failure-tail.js");
  const reporter = await RunReporter.create(ctx, Boolean(options.json), limitsOf(ws));
  if (reporter.mode !== "json") {
    const { RunConsole } = await import("./run-console.js");
    reporter.extras = new RunConsole((line) => reporter.say(line), { stamped: reporter.mode === "plain", testCounts: new Map(ws.steps.map((s) => [s.id, s.acceptanceTests.length])) });
  }
  const extras = reporter.extras;
  const listeners = await runListeners(options, ws, ctx, reporter);

  // Ctrl-C / SIGTERM: stop starting steps, kill running ones (the engine aborts their groups),
  // flush state, exit 130/143. A second signal kills every group at once.
  const controller = new AbortController();
  const hardController = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      hardController.abort(signal);
      void import("../proc/live-groups.js").then(({ killAllLiveGroups }) => killAllLiveGroups("SIGKILL"));
      return;
    }
    received = signal;
    // Before run-start (the first lane's setup) there is no run to resume yet.
    const next = reporter.started ? `stopping running steps (state is saved; continue with ws run --ws-id ${ws.id} --resume)` : "stopping before any step started";
    if (reporter.mode !== "json") {
      reporter.pause();
      err(ctx, `\nws: ${signal} received: ${next}`);
    }
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
      rollback: options.rollback,
      force: options.force,
      rebase: options.rebase,
      only: options.only,
      withDeps: options.withDeps,
      from: options.from,
      base: options.base,
      maxWorkers: options.maxWorkers,
      order: options.order,
      signal: controller.signal,
      listeners,
      hardSignal: hardController.signal,
      approvals: { preApproved, user: (await import("../store/approvals.js")).currentUser(ctx.env), ask: reporter.asker(() => process.stdin) },
      // --json prints events only: a step's own lines would break the one-event-a-line stream.
      onOutput: options.stream && extras ? (step, line) => extras.output(step, line) : undefined,
      onSetupStart: (setup) => reporter.setupStarted(setup),
    });
  } finally {
    reporter.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  if (result.kind !== "finished") return refused(result, ws, ctx);
  if (!options.json) await printSummary(ws, result, ctx);
  return result.exitCode;
}

/** After a run: the steps that need attention, the times, the merge hint, what to do next. */
async function printSummary(ws: Workstream, result: Extract<RunOutcome, { kind: "finished" }>, ctx: CliContext): Promise<void> {
  const { state, exitCode } = result;
  if (!ctx.quiet) {
    const { Chalk } = await import("chalk");
    const chalk = new Chalk({ level: ctx.color ? 1 : 0 });
    const { stepTable, UNSELECTED_ROWS } = await import("./summary-table.js");
    const { stepRecords } = await import("../store/run-state.js");
    out(ctx);
    // A table of hundreds of passed steps helps nobody (and cli-table3's layout is quadratic):
    // past SUMMARY_ROWS only the steps that need attention are listed; ws status has them all.
    // Steps this run did not select (--only of 3 among 50 000) are not its news either.
    const records = stepRecords(state);
    const passed = records.filter((r) => r.state === "passed").length;
    const unselected = records.filter((r) => !r.selected && r.state !== "passed").length;
    const trim = state.order.length > SUMMARY_ROWS;
    if (!trim || passed + unselected < state.order.length) out(ctx, await stepTable(state, chalk, { width: terminalWidth(ctx), ...(trim ? { rows: (r) => r.state !== "passed" && r.selected } : {}) }));
    // ws status counts rather than lists that many unselected steps too: --all lists them.
    const all = unselected > UNSELECTED_ROWS ? " --all" : "";
    if (trim) out(ctx, `${passed} passed step${passed === 1 ? "" : "s"}${unselected > 0 ? ` and ${unselected} not selected` : ""} not listed (all of them: ws status --ws-id ${ws.id}${all})`);
  }
  const { readHistory } = await import("../store/history.js");
  const { wsPaths } = await import("../store/paths.js");
  out(ctx, (await import("./summary-table.js")).timesLine(ws.id, state, readHistory(wsPaths(ctx.cwd, ws.id).history)));
  const { mergeAdvice, adviceLines } = await import("./merge-hint.js");
  for (const line of await adviceLines(await mergeAdvice(ctx, state))) out(ctx, line);
  const held = heldSteps(state);
  if (held.length > 0 && state.status === "held") out(ctx, `held at ${held.join(", ")} (approval rejected): continue with: ws run --ws-id ${ws.id} --resume --approve ${held.join(",")}`);
  else if (exitCode !== 0) out(ctx, `details: ws status --ws-id ${ws.id}, ws logs --ws-id ${ws.id} --step <id>; ${await (await import("./resume-hint.js")).resumeHint(ws.id, state, ctx.cwd)}`);
}

/** The steps whose approval gate held the run (rejected under on_reject "hold"). */
function heldSteps(state: RunState): string[] {
  return state.order.filter((id) => state.steps[id]?.reason?.kind === "held");
}

/** `--approve a,b` or `--approve all`; a name that is not a gated step is a typo to fix before the run. */
async function approvedAhead(options: RunCommandOptions, ws: Workstream): Promise<string[] | "all" | undefined> {
  const ids = options.approve;
  if (!ids || ids.length === 0) return undefined;
  if (ids.includes("all")) return "all";
  const { gatedStep } = await import("./approve.js");
  for (const id of ids) gatedStep(ws, id, "--approve");
  return ids;
}

/** Persistence first (nothing may be shown that is not on disk), then what the user sees, then reports. */
async function runListeners(options: RunCommandOptions, ws: Workstream, ctx: CliContext, reporter: RunListener): Promise<RunListener[]> {
  const { recordRun } = await import("../store/recorder.js");
  const { wsPaths } = await import("../store/paths.js");
  const reports = await import("../report/listeners.js");
  const listeners = [...recordRun(wsPaths(ctx.cwd, ws.id))];
  if (ctx.env.GITHUB_ACTIONS === "true" && !options.json) listeners.push(await reports.githubActionsListener((line) => ctx.stdout.write(line + "\n")));
  listeners.push(reporter);
  if (options.junit) listeners.push(reports.junitListener(ws, path.resolve(ctx.base, options.junit)));
  const summaries = [
    ...(options.summary ? [{ file: path.resolve(ctx.base, options.summary), append: false }] : []),
    ...(ctx.env.GITHUB_STEP_SUMMARY ? [{ file: ctx.env.GITHUB_STEP_SUMMARY, append: true }] : []),
  ];
  if (summaries.length > 0) listeners.push(reports.markdownSummaryListener(ws, ctx.cwd, summaries));
  return listeners;
}

/** Report files that cannot be written are found before any step starts, not after an hour of steps. */
function checkReportTargets(options: RunCommandOptions, ctx: CliContext): void {
  if (options.junit) checkReportTarget(path.resolve(ctx.base, options.junit), "--junit");
  if (options.summary) checkReportTarget(path.resolve(ctx.base, options.summary), "--summary");
  if (ctx.env.GITHUB_STEP_SUMMARY) checkReportTarget(ctx.env.GITHUB_STEP_SUMMARY, "GITHUB_STEP_SUMMARY");
}

/** The engine's reasons for not running, worded with the flags that lead there. */
function refused(outcome: Exclude<RunOutcome, { kind: "finished" }>, ws: Workstream, ctx: CliContext): number {
  switch (outcome.kind) {
    case "locked":
      err(ctx, `ws: another run of ${ws.id} is in progress (pid ${outcome.holder.pid} on ${outcome.holder.host}, since ${outcome.holder.startedAt})`);
      err(ctx, `  fix: wait for it (ws status --ws-id ${ws.id} --watch), or stop it; lock file: ${path.relative(ctx.cwd, outcome.lockFile)}`);
      return 3;
    case "no_previous_run":
      throw new UserError(`there is no run of ${ws.id} to resume`, { fix: `start one with: ws run --ws-id ${ws.id}` });
    case "changed_since_run":
      throw new UserError(`${path.relative(ctx.cwd, ws.file) || ws.file} changed since the run being resumed (${outcome.runId})`, {
        fix: "resume anyway with --resume --force, or start a fresh run without --resume",
      });
    case "unknown_step":
      throw unknownStep(outcome, ws);
    case "missing_tools": {
      const lines = outcome.missing.map((m) => `${m.tool} (looked for "${m.binary}") is needed by: ${m.steps.join(", ")}`);
      const tool = (outcome.missing[0]?.tool ?? "TOOL").toUpperCase().replace(/-/g, "_");
      throw new UserError(`tool not found: ${lines.join("; ")}`, {
        fix: `install it, put it on PATH, or point WS_<TOOL>_BIN at it (e.g. WS_${tool}_BIN=/path/to/binary)`,
      });
    }
    case "no_sandbox":
      throw new UserError(`${path.relative(ctx.cwd, ws.file) || ws.file}: execution.isolation "sandbox": ${outcome.problem}`, { fix: outcome.fix });
    case "tool_not_ready":
      throw new UserError(`${path.relative(ctx.cwd, ws.file) || ws.file}: ${outcome.message}`, { fix: outcome.fix });
  }
}

function unknownStep(outcome: UnknownStep, ws: Workstream): UserError {
  return new UserError(`--${outcome.option} names an unknown step "${outcome.id}" in ${ws.id}`, { fix: outcome.suggestion });
}

/** "2.1s (3 workers; sequential group g; group h at most 2 at a time; ws's own time 50ms a step, 280ms a run; critical path 1.2s, work 3.3s)". */
function estimateText(plan: Plan, ws: Workstream): string {
  const parts = [`${plan.maxWorkers} worker${plan.maxWorkers === 1 ? "" : "s"}`];
  for (const g of ws.stepGroups) {
    if (g.execute === "sequential") parts.push(`sequential group ${g.id}`);
    else if (g.maxWorkers !== undefined) parts.push(`group ${g.id} at most ${g.maxWorkers} at a time`);
  }
  if (plan.overheadMs) parts.push(`ws's own time ${formatDuration(plan.overheadMs.stepMs)} a step, ${formatDuration(plan.overheadMs.runMs)} a run`);
  parts.push(`critical path ${formatDuration(plan.criticalPathMs ?? 0)}, work ${formatDuration(plan.totalWorkMs ?? 0)}`);
  return `${formatDuration(plan.estimateMs ?? 0)} (${parts.join("; ")})`;
}

async function dryRunCommand(options: RunCommandOptions, ws: Workstream, ctx: CliContext): Promise<number> {
  const { dryRun } = await import("../engine/select.js");
  const result = dryRun(ctx.cwd, ws, options, options.maxWorkers);
  if (!("plan" in result)) throw unknownStep(result, ws);
  const { plan, selected } = result;
  if (options.json) {
    out(ctx, JSON.stringify({ ...plan, selected, priority: undefined }, null, 2));
    return 0;
  }
  out(ctx, `plan for ${ws.id}: ${selected.length} steps, ${plan.maxWorkers} workers (dry run: nothing runs)`);
  plan.waves.forEach((wave, k) => out(ctx, `  wave ${k + 1}: ${wave.join(", ")}`));
  out(ctx, `  critical path: ${plan.criticalPath.join(" → ")}${plan.criticalPathMs !== undefined ? ` (${formatDuration(plan.criticalPathMs)})` : ""}`);
  out(ctx, plan.estimateMs !== undefined ? `  estimate: ${estimateText(plan, ws)}` : "  estimate: unknown until a first run has recorded step durations");
  // What `ws run` would meet: a dry run that passes must not hide why the real one stops.
  const { checkRun } = await import("./run-checks.js");
  const checks = checkRun(ctx.cwd, ws, options, ctx.env);
  if (checks.skipped.length > 0) out(ctx, `  skipped (when is false): ${checks.skipped.join(", ")}`);
  for (const line of checks.unmet) out(ctx, `  warning: ${line}`);
  for (const m of checks.missingTools) out(ctx, `  tool not found: ${m.tool} (looked for "${m.binary}"), needed by ${m.steps.join(", ")}`);
  if (checks.missingTools.length > 0) return refused({ kind: "missing_tools", missing: checks.missingTools }, ws, ctx);
  return 0;
}
