import fs from "node:fs";
import type { RunListener } from "../events/listener.js";
import type { Graph } from "../graph/graph.js";
import { buildGraph } from "../graph/graph.js";
import { findScopeConflicts } from "../graph/conflicts.js";
import { chooseWorkplace, type Workplace } from "../git/isolation.js";
import type { SetupStart } from "../git/lanes.js";
import { serveGits } from "../git/served-git.js";
import { wsPaths, type WsPaths } from "../store/paths.js";
import { loadRunState } from "../store/snapshot.js";
import { acquireLock } from "../store/lock.js";
import { readHistory } from "../store/history.js";
import { reapGroups } from "../store/group-registry.js";
import { plainEnv } from "../proc/launch.js";
import { spawnServer } from "../proc/spawn-server.js";
import { containmentNotes, defaultAgentSandbox, sandboxUnavailable } from "../proc/run-checks.js";
import { redactDeep, secretValues } from "../proc/secrets.js";
import type { RunEvent } from "../events/run-event.js";
import { noteLevel } from "../events/note-level.js";
import { stepRecords, type RunState } from "../store/run-state.js";
import { adapterFor, findMissingTools, preflightProblem } from "../tools/registry.js";
import type { Budget, Step, Workstream } from "../workstream/model.js";
import { UserError } from "../errors.js";
import { sameFile } from "../workstream/digest.js";
import { systemClock, type Clock } from "./clock.js";
import { adaptiveWorkers, systemLoad } from "./adaptive-workers.js";
import { ProgressWatch } from "./step-progress.js";
import { OutputTail } from "./output-tail.js";
import { Dispatcher } from "./dispatch.js";
import { trimHeap } from "./heap-trim.js";
import { holdOptimizer } from "../proc/optimizer-hold.js";
import { planRun, type Plan } from "./plan.js";
import { schedule, type Final, type SchedulerGroup } from "./scheduler.js";
import { selectSteps, workerCount, type Selection, type UnknownStep } from "./select.js";
import { StepUnits } from "./step-units.js";
import { givenNeeds, needsOf, toldNeeds, withNeeds } from "./needs.js";
import { resolveStepOutputs, usesOutputs } from "./outputs.js";
import { rollbackOrder, runCompensations } from "./compensation.js";
import { ApprovalGates, type ApprovalSettings } from "./approvals.js";
import { idRecord } from "../id-record.js";
import { descendants } from "../graph/reachability.js";
import { timeSaved } from "../events/time-saved.js";

/** Hex digits to tell runs of one second apart: Math.random, not node:crypto (~10 ms and 1 MB of a start, bench/NOTES.md). */
function randomHex(digits: number): string {
  let out = "";
  while (out.length < digits) out += Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0");
  return out.slice(0, digits);
}

/** Past this many selected steps, run-start carries no waves (nor does status time them). */
const WAVE_STEPS = 2000;

/** A run that ended with an approval gate held (rejected under on_reject "hold"): not a failure, not done. */
export const HELD_EXIT = 4;

export interface RunOptions extends Selection {
  /** Project root: state goes to `<cwd>/.worktrees/<id>/`. */
  cwd: string;
  workstream: Workstream;
  env?: NodeJS.ProcessEnv;
  resume?: boolean;
  /** With resume: accept a workstream file that changed since the run being resumed. */
  force?: boolean;
  /** With resume: start the unfinished steps on the working tree as it is now, not the run's old base. */
  rebase?: boolean;
  /** The commit to start from (`--base REF`); default: the working tree as it is. */
  base?: string | undefined;
  /** A worker count for this run, over the file's. */
  maxWorkers?: number;
  /** Ready-queue order; "fifo" exists to measure what the critical path buys (bench/). */
  order?: "critical-path" | "fifo";
  /** Abort = Ctrl-C: running steps are killed and end `cancelled` (the reason is the signal's name); `run_if: always` steps still run. */
  signal?: AbortSignal;
  /** Abort = a second Ctrl-C: `always` steps are skipped too. */
  hardSignal?: AbortSignal;
  /** Every consumer of the run, in order; persistence (store/recorder.ts) goes first. */
  listeners?: RunListener[];
  /** Approval gates: what was approved ahead (--approve), how to ask at the terminal, who asks. */
  approvals?: ApprovalSettings | undefined;
  /** Run no step: compensate the last run's passed steps (`ws run --rollback`). */
  rollback?: boolean;
  clock?: Clock;
  /** Where max_workers "auto" reads the machine's load (tests give a virtual one). */
  load?: { cores: () => number; loadAverage: () => number };
  /** Each line a running step's tool prints, as it comes (`ws run --stream`), secrets masked. Turns
   *  on line decoding for shell steps too, which costs (see step-runner.ts runTool). */
  onOutput?: ((step: string, line: string, stream: "stdout" | "stderr") => void) | undefined;
  /** Told as a lane's `worktree.setup` starts: the first lane's runs before run-start, which waits for it. */
  onSetupStart?: ((setup: SetupStart) => void) | undefined;
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
  /** isolation "sandbox" on a machine where bwrap cannot make one (`problem` says why). */
  | { kind: "no_sandbox"; problem: string; fix: string }
  /** A tool would stall before doing anything (aider with no model and no key: a browser sign-in). */
  | { kind: "tool_not_ready"; message: string; fix: string }
  | UnknownStep;

interface Prepared {
  ws: Workstream;
  env: NodeJS.ProcessEnv;
  inherited: Readonly<Record<string, string>>;
  clock: Clock;
  paths: WsPaths;
  graph: Graph;
  selected: Set<number>;
  previous: RunState | undefined;
}

/** Everything that can refuse a run before it takes the lock: resume checks, selection, tools on PATH. */
function prepare(options: RunOptions): Prepared | Exclude<RunOutcome, { kind: "finished" | "locked" }> {
  const ws = options.workstream;
  // Copied once for the run: every attempt reads both, and process.env is slow to read (plainEnv).
  // Frozen: read-only for the whole run, so what every attempt derives from them (the secret names,
  // secrets.ts; the NUL check, launch.ts) is worked out once.
  const inherited = Object.freeze(plainEnv(process.env));
  const env = options.env === undefined ? inherited : Object.freeze(plainEnv(options.env));
  const paths = wsPaths(options.cwd, ws.id);
  const graph = buildGraph(ws);
  const previous = options.resume || options.rollback ? loadRunState(paths) : undefined;
  if (options.resume || options.rollback) {
    if (!previous) return { kind: "no_previous_run" };
    if (!sameFile(previous.hash, ws) && !options.force) return { kind: "changed_since_run", runId: previous.runId };
  }
  // A rollback (asked for, or one a kill -9 interrupted) runs compensations only: no step again.
  const rollbackOnly = options.rollback === true || (options.resume === true && previous?.rollback?.state === "running");
  const selected = rollbackOnly ? new Set<number>() : selectSteps(ws, graph, options, previous);
  if (!(selected instanceof Set)) return selected;
  const steps = ws.steps.filter((s, i) => selected.has(i) && s.when?.value !== false);
  const missing = findMissingTools(ws, steps, env);
  if (missing.length > 0) return { kind: "missing_tools", missing };
  const noSandbox = sandboxUnavailable(ws, env);
  if (noSandbox !== undefined) return { kind: "no_sandbox", ...noSandbox };
  const problem = preflightProblem(ws, steps, env);
  if (problem) return { kind: "tool_not_ready", ...problem };
  return { ws, env, inherited, clock: options.clock ?? systemClock, paths, graph, selected, previous };
}

export async function runWorkstream(options: RunOptions): Promise<RunOutcome> {
  const prepared = prepare(options);
  if ("kind" in prepared) return prepared;
  const lock = acquireLock(prepared.paths.lock);
  if (!lock.ok) return { kind: "locked", holder: lock.holder, lockFile: prepared.paths.lock };
  // bash and its first FIFOs start while the run sets up (worktree, reaping, the header).
  if (prepared.selected.size > 0) {
    spawnServer();
    serveGits();
  }
  try {
    const dispatcher = new Dispatcher(options.listeners ?? [], prepared.previous);
    let outcome: RunOutcome;
    // Validated and planned by now: TurboFan waits for hot work while the steps run (optimizer-hold.ts).
    const releaseOptimizer = holdOptimizer();
    try {
      outcome = await execute(options, prepared, dispatcher);
      releaseOptimizer();
    } catch (error) {
      releaseOptimizer();
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

/** The lanes the first steps take at once: made and seeded while the first lane's setup runs. */
function firstWave(ws: Prepared["ws"], graph: Prepared["graph"], selected: Set<number>, maxWorkers: number | undefined): number {
  const roots = [...selected].filter((node) => !(graph.deps[node] ?? []).some((d) => selected.has(d)));
  return Math.min(workerCount(ws, maxWorkers), roots.length);
}

async function execute(options: RunOptions, p: Prepared, dispatcher: Dispatcher): Promise<RunOutcome> {
  const { ws, clock, paths, graph, selected } = p;
  const started = clock.now();
  const at = () => new Date(clock.now()).toISOString();
  // A step may print a key it was given: no event, log line or report keeps its value.
  const secrets = secretValues([p.inherited, p.env, ...ws.steps.map((s) => s.env), ...Object.values(ws.tools).map((t) => t.env)]);
  const send = (event: RunEvent) => dispatcher.emit(redactDeep(event, secrets));
  const progress = new ProgressWatch(paths.stepDir, send, at);
  const tails = new OutputTail(paths.attemptLog, send, at);
  const emit = (event: RunEvent) => {
    progress.observe(event);
    tails.observe(event);
    send(event);
    if (event.type === "step-end") trimHeap();
  };
  // Before anything is written: a malformed WS_STEP_OUTPUTS is the user's to fix (exit 2).
  // The last run's outputs stand in for steps this one leaves out, if a selected step reads any:
  // reading them is reading the last run's whole state (6 MB at 50 000 steps, bench/scale.mjs).
  // A run_if step told of a dependency left out (WS_NEEDS) reads it there too.
  const lastOutputs = selected.size < graph.ids.length && [...selected].some((node) => usesOutputs(ws.steps[node]!) || (toldNeeds(ws.steps[node]!) && (graph.deps[node] ?? []).some((d) => !selected.has(d))));
  const stepAt = runStepResolver(ws, graph, () => dispatcher.state, p.previous ?? (lastOutputs ? loadRunState(paths) : undefined), p.env, paths.stepDir);
  const place: Workplace & { sandboxAgents?: boolean } = await chooseWorkplace(ws, options.cwd, paths, { resume: Boolean(options.resume || options.rollback), previousBase: p.previous?.base, rebase: options.rebase, baseRef: options.base, env: p.env, signal: options.signal, lanesAtOnce: firstWave(ws, graph, selected, options.maxWorkers), onSetupStart: options.onSetupStart });
  if (place.git.lanes) {
    const agents = defaultAgentSandbox(ws, ws.steps.filter((_, i) => selected.has(i)), p.env);
    place.sandboxAgents = agents.on;
    if (agents.note) place.notes.push(agents.note);
  }
  const maxWorkers = workerCount(ws, options.maxWorkers);
  const plan = planRun(ws, graph, readHistory(paths.history), maxWorkers, selected);
  const runId = `${new Date(started).toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomHex(6)}`;
  emit({
    type: "run-start",
    at: at(),
    runId,
    wsId: ws.id,
    file: ws.file,
    hash: ws.hash,
    steps: graph.ids,
    selected: [...selected].sort((a, b) => a - b).map((i) => graph.ids[i] ?? ""),
    maxWorkers,
    adaptive: ws.execution.adaptive === true && options.maxWorkers === undefined ? true : undefined,
    pid: process.pid,
    // A rollback continues the last run's records like a resume does.
    resume: Boolean(options.resume || options.rollback),
    workdir: place.workdir,
    branch: place.branch,
    base: place.base,
    reused: place.reused,
    runBase: place.runBase,
    estimateMs: plan.estimateMs,
    setupMs: Math.round(clock.now() - started),
    expectedMs: plan.expectedMs,
    weights: plan.weights,
    ...runBudgets(ws, selected),
    groups: ws.stepGroups.length > 0 ? ws.stepGroups.map((g) => ({ id: g.id, steps: [...g.steps] })) : undefined,
    // Waves cost ~30 ms and a list of every step at 50 000 steps; a wave table that long helps nobody.
    waves: selected.size <= WAVE_STEPS ? plan.waves : undefined,
  });
  for (const message of startWarnings(options, p, place)) emit({ type: "warning", at: at(), message, ...noteLevel(message) });
  const lanes = place.git.lanes?.pool;
  if (lanes) lanes.onNote = (message) => emit({ type: "warning", at: at(), message, ...noteLevel(message) });
  // A fresh run starts the numbering again: old attempt logs of the steps it runs would mix in.
  if (!options.resume) clearStepFolders(paths, graph.ids, selected);

  const approvals = new ApprovalGates({ paths, runId, clock, emit, settings: options.approvals ?? { user: "ws" } });
  let finals: Map<number, Final>;
  progress.start();
  tails.start();
  try {
    // A step's live output is masked like its events: a step may print a key it was given.
    const watch = options.onOutput;
    const onOutput = watch && ((step: string, line: string, stream: "stdout" | "stderr") => watch(step, redactDeep(line, secrets), stream));
    finals = await scheduleSteps({ ...options, onOutput }, p, place, plan, emit, stepAt, approvals);
  } finally {
    progress.stop();
    tails.stop();
    approvals.close();
  }
  const interrupted = options.signal?.aborted === true;
  // A member of an `any` group that passed (a race's losers, a failed alternative) does not fail the run.
  const forgiven = new Set(schedulerGroups(ws, graph).filter((g) => g.succeed === "any" && g.members.some((m) => finals.get(m)?.state === "passed")).flatMap((g) => g.members));
  // A held gate (on_reject "hold") stops its step and what waits on it, and fails nothing.
  const heldNodes = [...finals.entries()].filter(([, f]) => f.reason.kind === "held").map(([node]) => node);
  const onHold = heldNodes.length > 0 ? descendants(graph, heldNodes) : new Set<number>();
  const anyBad = [...finals.entries()].some(([node, f]) => selected.has(node) && !forgiven.has(node) && (f.state === "failed" || f.state === "blocked" || (f.state === "cancelled" && !onHold.has(node))));
  const rolledBack = await rollbackIfDue(options, p, place, dispatcher, anyBad || interrupted);
  // Rolling back a failed run undoes its work; it does not make the run pass.
  const failed = anyBad || rolledBack === "failed" || (rolledBack !== undefined && !options.rollback) || (options.rollback === true && p.previous?.status === "failed");
  const held = !failed && heldNodes.length > 0;
  const exitCode = interrupted ? /* 128 + the signal's number, as a shell reports it */ (options.signal?.reason === "SIGTERM" ? 143 : 130) : failed ? 1 : held ? HELD_EXIT : 0;
  const sequentialMs = (dispatcher.state ? stepRecords(dispatcher.state) : []).reduce((sum, r) => sum + (r.selected ? (r.durationMs ?? 0) : 0), 0);
  dispatcher.ending(at());
  // A rollback that undid a passed run's work is no pass: the work is gone.
  const outcome = interrupted ? "cancelled" : failed ? "failed" : held ? "held" : options.rollback ? "rolled_back" : "passed";
  const durationMs = clock.now() - started;
  emit({ type: "run-end", at: at(), outcome, exitCode, durationMs, sequentialMs, ...timeSaved(durationMs, sequentialMs, plan.maxWorkers) });
  return { kind: "finished", state: dispatcher.state!, exitCode, branch: place.branch };
}

/** Only the folders there (one listing): an rmSync of a missing folder is an lstat and an error
 *  thrown and caught inside Node, ~1000 of them before a fresh 1000-step run's first step. */
function clearStepFolders(paths: WsPaths, ids: readonly string[], selected: ReadonlySet<number>): void {
  const present = existingNames(paths.steps);
  for (const node of selected) {
    const id = ids[node] ?? "";
    if (present === undefined || present.has(id.toLowerCase())) fs.rmSync(paths.stepDir(id), { recursive: true, force: true });
  }
}

/**
 * Compensations after the steps: on a failed or interrupted run (execution.compensation
 * "on_failure"), on `--rollback`, or to finish a rollback a kill -9 cut short. Undefined when none ran.
 */
async function rollbackIfDue(options: RunOptions, p: Prepared, place: Workplace, dispatcher: Dispatcher, runFailed: boolean): Promise<"passed" | "failed" | undefined> {
  const { ws } = p;
  const unfinished = options.resume === true && p.previous?.rollback?.state === "running";
  const trigger = options.rollback ? "rollback" : unfinished ? "resume" : runFailed && ws.execution.compensation === "on_failure" ? "failure" : undefined;
  const state = dispatcher.state;
  if (!trigger || !state) return undefined;
  const steps = rollbackOrder(ws, state);
  if (steps.length === 0 && trigger === "failure") return undefined;
  // In a worktree run, compensations run in a worktree of the run's branch as the steps left it.
  const lanes = place.git.lanes;
  const lane = lanes ? await lanes.pool.acquire(lanes.branch.head) : undefined;
  try {
    const undo = lanes ? (id: string) => lanes.branch.undo(id, state.steps[id]?.commit) : undefined;
    const deps = { workstream: ws, workdir: lane?.workdir ?? place.workdir, tree: lane?.root, paths: p.paths, env: p.env, inherited: p.inherited, clock: p.clock, emit: dispatcher.emit, signal: options.hardSignal, undo };
    return (await runCompensations(deps, steps, trigger)) ? "passed" : "failed";
  } finally {
    if (lane && lanes) await lanes.pool.release(lane);
  }
}

/**
 * The limits run-start carries (the run's, and each selected step's that has one), so the live
 * view and `ws status --watch` show the share spent from the events alone, as the run saw them.
 */
function runBudgets(ws: Workstream, selected: ReadonlySet<number>): { budget?: Budget; budgets?: Record<string, Budget> } {
  const limited = (b: Budget) => Object.values(b).some((v) => v !== undefined);
  const budgets = idRecord<Budget>();
  let any = false;
  for (const i of selected) {
    const step = ws.steps[i];
    if (step && limited(step.budget)) {
      budgets[step.id] = step.budget;
      any = true;
    }
  }
  return { ...(limited(ws.budget) ? { budget: ws.budget } : {}), ...(any ? { budgets } : {}) };
}

/** What the run header says before any step starts. */
function startWarnings(options: RunOptions, p: Prepared, place: Workplace): string[] {
  const warnings: string[] = [];
  const ws = options.workstream;
  if (options.maxWorkers !== undefined && options.maxWorkers > 1 && !ws.execution.parallel) {
    warnings.push(`${options.maxWorkers} workers were asked for this run, over "parallel": false in ${ws.id}: steps may run at the same time`);
  }
  // Steps of a run that died by kill -9 may still be running: they must not edit the tree beside their re-run.
  const reaped = reapGroups(p.paths.groups);
  if (reaped > 0) warnings.push(`killed ${reaped} process group${reaped === 1 ? "" : "s"} or process${reaped === 1 ? "" : "es"} left running by an interrupted run`);
  const steps = ws.steps.filter((_, i) => p.selected.has(i));
  const keysOf = (s: Step) => adapterFor(ws, s.tool).keyVariables ?? [];
  const givenOf = (s: Step) => [...Object.keys(s.env), ...Object.keys((Object.hasOwn(ws.tools, s.tool) ? ws.tools[s.tool]?.env : undefined) ?? {})];
  return [...warnings, ...containmentNotes(steps, p.env, keysOf, givenOf), ...place.notes];
}

function scheduleSteps(options: RunOptions, p: Prepared, place: Workplace & { sandboxAgents?: boolean }, plan: Plan, emit: Dispatcher["emit"], stepAt: (node: number) => Step | undefined, approvals: ApprovalGates): Promise<Map<number, Final>> {
  const { ws, graph } = p;
  const units = new StepUnits({
    workstream: ws,
    ids: graph.ids,
    workdir: place.workdir,
    paths: p.paths,
    env: p.env,
    inherited: p.inherited,
    clock: p.clock,
    git: place.git,
    sandboxAgents: place.sandboxAgents,
    emit,
    previous: (id) => p.previous?.steps[id],
    onOutput: options.onOutput,
    resolve: stepAt,
    approvals,
    parents: (node) => graph.deps[node] ?? [],
  });
  const conflicts = ws.execution.fileConflicts === "serialize" ? findScopeConflicts(ws, graph) : [];
  const waits = groupAwareDeps(ws, graph);
  const finals = schedule({
    ids: graph.ids,
    deps: waits.deps,
    groupDeps: waits.groupDeps,
    selected: p.selected,
    maxWorkers: workerLimit(options, p, plan, emit),
    rateLimitMs: ws.execution.rateLimitDelay * 1000,
    onFailure: ws.execution.onFailure,
    priority: options.order === "fifo" ? undefined : plan.priority,
    exclusive: conflicts.map((c) => [c.a, c.b] as const),
    groups: schedulerGroups(ws, graph),
    clock: p.clock,
    signal: options.signal,
    hardSignal: options.hardSignal,
    runIf: ws.steps.map((s) => s.runIf),
    named: (options.only?.length ?? 0) > 0,
    gate: units.gate,
    run: units.run,
    onWait: units.onWait,
    onFinal: units.onFinal,
    notBefore: retriesOwed(p),
  });
  // Worktrees of steps cancelled between attempts are given back (their work kept as patches).
  return finals.finally(() => units.settle());
}

/** A resume's steps whose retry the last run cut short within its retry_delay: they wait the rest. */
function retriesOwed(p: Prepared): Map<number, number> | undefined {
  if (!p.previous) return undefined;
  const owed = new Map<number, number>();
  for (const node of p.selected) {
    const waiting = p.previous.steps[p.graph.ids[node] ?? ""]?.waiting;
    if (waiting?.reason === "retry") owed.set(node, Date.parse(waiting.until));
  }
  return owed.size > 0 ? owed : undefined;
}

/** max_workers "auto" follows the load (unless --max-workers set a number); anything else is fixed. */
function workerLimit(options: RunOptions, p: Prepared, plan: Plan, emit: Dispatcher["emit"]): number | (() => number) {
  if (!p.ws.execution.adaptive || options.maxWorkers !== undefined) return plan.maxWorkers;
  const load = options.load ?? systemLoad;
  const at = () => new Date(p.clock.now()).toISOString();
  return adaptiveWorkers({ max: plan.maxWorkers, cores: load.cores(), loadAverage: load.loadAverage, clock: p.clock, onChange: (message) => emit({ type: "warning", at: at(), message }) });
}

/**
 * A step as it will run: its `${steps.<id>.outputs.<key>}` resolved from this run's passed steps,
 * then the last run's (steps left out by --only/--from), then WS_STEP_OUTPUTS (JSON
 * `{ "<step>": { "<key>": "value" } }`, how a CI job hands its needs' outputs in). A group's
 * outputs are those of its passed members. Resolved once, when the step is first asked about:
 * the scheduler asks only once its dependencies have ended.
 */
function runStepResolver(ws: Workstream, graph: Graph, current: () => RunState | undefined, last: RunState | undefined, env: NodeJS.ProcessEnv, stepDir: (id: string) => string): (node: number) => Step | undefined {
  let external = idRecord<Record<string, string>>();
  try {
    const given = env.WS_STEP_OUTPUTS ? (JSON.parse(env.WS_STEP_OUTPUTS) as typeof external | null) : null;
    external = idRecord(Object.entries(given ?? {}).map(([id, outputs]) => [id, idRecord(Object.entries(outputs ?? {}))]));
  } catch (error) {
    throw new UserError(`WS_STEP_OUTPUTS is not valid JSON: ${(error as Error).message}`, { fix: 'set it to {"<step>": {"<key>": "value"}} or unset it' });
  }
  const ofStep = (id: string): Record<string, string> | undefined => current()?.steps[id]?.outputs ?? last?.steps[id]?.outputs ?? external[id];
  const lookup = (id: string, key: string): string | undefined => {
    if (graph.index.has(id)) return ofStep(id)?.[key];
    const group = ws.stepGroups.find((g) => g.id === id);
    // A group's members in listed order; a later member's value for the same key wins.
    return group?.steps.map((m) => ofStep(m)?.[key]).filter((v) => v !== undefined).at(-1);
  };
  const given = givenNeeds(env.WS_NEEDS);
  const records = [(id: string) => current()?.steps[id], (id: string) => last?.steps[id]];
  const told = (step: Step, node: number): Step => {
    if (!toldNeeds(step) || (graph.deps[node] ?? []).length === 0) return step;
    const deps = (graph.deps[node] ?? []).map((d) => graph.ids[d] ?? "");
    return withNeeds(step, needsOf(deps, records, given), stepDir(step.id));
  };
  const cache = new Map<number, Step>();
  return (node) => {
    const step = ws.steps[node];
    if (!step) return undefined;
    let resolved = cache.get(node);
    if (!resolved) cache.set(node, (resolved = told(resolveStepOutputs(step, lookup), node)));
    return resolved;
  };
}

/**
 * The scheduler's dependencies: a step or an `all` group named in depends_on means its steps; an
 * `any` group means the group's result, so its members are left out of `deps` and the group is in `groupDeps`.
 */
function groupAwareDeps(ws: Workstream, graph: Graph): { deps: number[][]; groupDeps: number[][] } {
  // Without an `any` group these are the graph's own edges (the scheduler copies what it keeps):
  // rebuilding them cost ~50 ms at 50 000 steps.
  if (!ws.stepGroups.some((g) => g.succeed === "any")) return { deps: graph.deps, groupDeps: [] };
  const groupIndex = new Map(ws.stepGroups.map((g, gi) => [g.id, gi] as const));
  const groupDeps: number[][] = [];
  const deps = ws.steps.map((step, node) => {
    const wanted = new Set<number>();
    const viaGroups: number[] = [];
    for (const name of step.dependsOn) {
      const direct = graph.index.get(name);
      const gi = groupIndex.get(name);
      if (direct !== undefined) wanted.add(direct);
      else if (gi !== undefined && ws.stepGroups[gi]?.succeed === "any") viaGroups.push(gi);
      else for (const id of ws.stepGroups[gi ?? -1]?.steps ?? []) if (graph.index.has(id)) wanted.add(graph.index.get(id)!);
    }
    groupDeps[node] = viaGroups;
    return [...wanted].sort((a, b) => a - b);
  });
  return { deps, groupDeps };
}

function schedulerGroups(ws: Workstream, graph: Graph): SchedulerGroup[] {
  return ws.stepGroups.map((g) => ({
    id: g.id,
    members: g.steps.map((id) => graph.index.get(id)).filter((i): i is number => i !== undefined),
    sequential: g.execute === "sequential",
    maxWorkers: g.maxWorkers,
    succeed: g.succeed,
    cancelRest: g.cancelRest,
    timeoutMs: g.timeout === undefined ? undefined : g.timeout * 1000,
  }));
}

/**
 * The names in a folder, lower-cased (a case-insensitive file system finds `S1/` for `s1`; a false
 * match only costs an rmSync); an empty set when it is missing; undefined when it cannot be listed
 * (then every removal is tried).
 */
function existingNames(dir: string): Set<string> | undefined {
  try {
    return new Set(fs.readdirSync(dir).map((name) => name.toLowerCase()));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? new Set() : undefined;
  }
}
