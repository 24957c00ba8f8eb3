import fs from "node:fs";
import { randomUUID } from "node:crypto";
import type { RunListener } from "../events/listener.js";
import type { Graph } from "../graph/graph.js";
import { buildGraph } from "../graph/graph.js";
import { findScopeConflicts } from "../graph/conflicts.js";
import { chooseWorkplace, type Workplace } from "../git/isolation.js";
import { wsPaths, type WsPaths } from "../store/paths.js";
import { loadRunState } from "../store/snapshot.js";
import { acquireLock } from "../store/lock.js";
import { readHistory } from "../store/history.js";
import { reapGroups } from "../store/group-registry.js";
import type { RunState } from "../store/run-state.js";
import { findMissingTools, preflightProblem } from "../tools/registry.js";
import type { Workstream } from "../workstream/model.js";
import { systemClock, type Clock } from "./clock.js";
import { Dispatcher } from "./dispatch.js";
import { planRun, type Plan } from "./plan.js";
import { schedule, type Final } from "./scheduler.js";
import { selectSteps, workerCount, type Selection, type UnknownStep } from "./select.js";
import { StepUnits } from "./step-units.js";

export interface RunOptions extends Selection {
  /** Project root: state goes to `<cwd>/.worktrees/<id>/`. */
  cwd: string;
  workstream: Workstream;
  env?: NodeJS.ProcessEnv;
  resume?: boolean;
  /** With resume: accept a workstream file that changed since the run being resumed. */
  force?: boolean;
  /** The commit to start from (`--base REF`); default: the working tree as it is. */
  base?: string | undefined;
  /** A worker count for this run, over the file's. */
  maxWorkers?: number;
  /** Ready-queue order; "fifo" exists to measure what the critical path buys (bench/). */
  order?: "critical-path" | "fifo";
  /** Abort = Ctrl-C: running steps are killed and end `cancelled`; the reason is the signal's name. */
  signal?: AbortSignal;
  /** Every consumer of the run, in order; persistence (store/recorder.ts) goes first. */
  listeners?: RunListener[];
  clock?: Clock;
}

export interface MissingTool {
  tool: string;
  binary: string;
  steps: string[];
}

/** Why a run did not start, or how it ended. */
export type RunOutcome =
  | { kind: "finished"; state: RunState; exitCode: number; branch?: string | undefined }
  | { kind: "locked"; holder: { pid: number; startedAt: string; host: string }; lockFile: string }
  | { kind: "no_previous_run" }
  | { kind: "changed_since_run"; runId: string }
  | { kind: "missing_tools"; missing: MissingTool[] }
  /** A tool would stall before doing anything (aider with no model and no key: a browser sign-in). */
  | { kind: "tool_not_ready"; message: string; fix: string }
  | UnknownStep;

interface Prepared {
  ws: Workstream;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  paths: WsPaths;
  graph: Graph;
  selected: Set<number>;
  previous: RunState | undefined;
}

/** Everything that can refuse a run before it takes the lock: resume checks, selection, tools on PATH. */
function prepare(options: RunOptions): Prepared | Exclude<RunOutcome, { kind: "finished" | "locked" }> {
  const ws = options.workstream;
  const env = options.env ?? process.env;
  const paths = wsPaths(options.cwd, ws.id);
  const graph = buildGraph(ws);
  const previous = options.resume ? loadRunState(paths) : undefined;
  if (options.resume) {
    if (!previous) return { kind: "no_previous_run" };
    if (previous.hash !== ws.hash && !options.force) return { kind: "changed_since_run", runId: previous.runId };
  }
  const selected = selectSteps(ws, graph, options, previous);
  if (!(selected instanceof Set)) return selected;
  const steps = ws.steps.filter((s, i) => selected.has(i) && s.when?.value !== false);
  const missing = findMissingTools(ws, steps, env);
  if (missing.length > 0) return { kind: "missing_tools", missing };
  const problem = preflightProblem(ws, steps, env);
  if (problem) return { kind: "tool_not_ready", ...problem };
  return { ws, env, clock: options.clock ?? systemClock, paths, graph, selected, previous };
}

export async function runWorkstream(options: RunOptions): Promise<RunOutcome> {
  const prepared = prepare(options);
  if ("kind" in prepared) return prepared;
  const lock = acquireLock(prepared.paths.lock);
  if (!lock.ok) return { kind: "locked", holder: lock.holder, lockFile: prepared.paths.lock };
  try {
    const dispatcher = new Dispatcher(options.listeners ?? [], prepared.previous);
    let outcome: RunOutcome;
    try {
      outcome = await execute(options, prepared, dispatcher);
    } catch (error) {
      // The run's own failure is the one to report; a listener that cannot close adds nothing.
      await dispatcher.close().catch(() => undefined);
      throw error;
    }
    await dispatcher.close();
    return outcome;
  } finally {
    lock.release();
  }
}

async function execute(options: RunOptions, p: Prepared, dispatcher: Dispatcher): Promise<RunOutcome> {
  const { ws, clock, paths, graph, selected } = p;
  const started = clock.now();
  const at = () => new Date(clock.now()).toISOString();
  const emit = dispatcher.emit;
  const place = await chooseWorkplace(ws, options.cwd, paths, { resume: Boolean(options.resume), baseRef: options.base, env: p.env, signal: options.signal });
  const maxWorkers = workerCount(ws, options.maxWorkers);
  const plan = planRun(ws, graph, readHistory(paths.history), maxWorkers, selected);
  emit({
    type: "run-start",
    at: at(),
    runId: `${new Date(started).toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomUUID().slice(0, 6)}`,
    wsId: ws.id,
    file: ws.file,
    hash: ws.hash,
    steps: graph.ids,
    selected: [...selected].sort((a, b) => a - b).map((i) => graph.ids[i] ?? ""),
    maxWorkers,
    pid: process.pid,
    resume: Boolean(options.resume),
    workdir: place.workdir,
    branch: place.branch,
    base: place.base,
    reused: place.reused,
    estimateMs: plan.estimateMs,
  });
  for (const message of startWarnings(options, paths, place)) emit({ type: "warning", at: at(), message });
  if (!options.resume) {
    // A fresh run starts the numbering again: old attempt logs of the steps it runs would mix in.
    for (const node of selected) fs.rmSync(paths.stepDir(graph.ids[node] ?? ""), { recursive: true, force: true });
  }

  const finals = await scheduleSteps(options, p, place, plan, emit);
  const interrupted = options.signal?.aborted === true;
  const anyBad = [...finals.entries()].some(([node, f]) => selected.has(node) && (f.state === "failed" || f.state === "blocked" || f.state === "cancelled"));
  // 128 + the signal's number, as a shell reports it.
  const exitCode = interrupted ? (options.signal?.reason === "SIGTERM" ? 143 : 130) : anyBad ? 1 : 0;
  const sequentialMs = Object.values(dispatcher.state?.steps ?? {}).reduce((sum, r) => sum + (r.selected ? (r.durationMs ?? 0) : 0), 0);
  emit({ type: "run-end", at: at(), outcome: interrupted ? "cancelled" : anyBad ? "failed" : "passed", exitCode, durationMs: clock.now() - started, sequentialMs });
  return { kind: "finished", state: dispatcher.state!, exitCode, branch: place.branch };
}

/** What the run header says before any step starts. */
function startWarnings(options: RunOptions, paths: WsPaths, place: Workplace): string[] {
  const warnings: string[] = [];
  const ws = options.workstream;
  if (options.maxWorkers !== undefined && options.maxWorkers > 1 && !ws.execution.parallel) {
    warnings.push(`${options.maxWorkers} workers were asked for this run, over "parallel": false in ${ws.id}: steps may run at the same time`);
  }
  // Steps of a run that died by kill -9 may still be running: they must not edit the tree beside their re-run.
  const reaped = reapGroups(paths.groups);
  if (reaped > 0) warnings.push(`killed ${reaped} process group${reaped === 1 ? "" : "s"} left running by an interrupted run`);
  return [...warnings, ...place.notes];
}

function scheduleSteps(options: RunOptions, p: Prepared, place: Workplace, plan: Plan, emit: Dispatcher["emit"]): Promise<Map<number, Final>> {
  const { ws, graph } = p;
  const units = new StepUnits({
    workstream: ws,
    ids: graph.ids,
    workdir: place.workdir,
    paths: p.paths,
    env: p.env,
    clock: p.clock,
    git: place.git,
    emit,
    attemptsBefore: (id) => p.previous?.steps[id]?.attempts ?? 0,
  });
  const conflicts = ws.execution.fileConflicts === "serialize" ? findScopeConflicts(ws, graph) : [];
  return schedule({
    ids: graph.ids,
    deps: graph.deps,
    selected: p.selected,
    maxWorkers: plan.maxWorkers,
    rateLimitMs: ws.execution.rateLimitDelay * 1000,
    onFailure: ws.execution.onFailure,
    priority: options.order === "fifo" ? undefined : plan.priority,
    exclusive: conflicts.map((c) => [c.a, c.b] as const),
    groups: ws.stepGroups.map((g) => ({
      members: g.steps.map((id) => graph.index.get(id)).filter((i): i is number => i !== undefined),
      sequential: g.execute === "sequential",
      maxWorkers: g.maxWorkers,
    })),
    clock: p.clock,
    signal: options.signal,
    gate: units.gate,
    run: units.run,
    onFinal: units.onFinal,
  });
}
