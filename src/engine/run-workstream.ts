import { closest } from "fastest-levenshtein";
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { UserError } from "../errors.js";
import type { Workstream, Step } from "../workstream/model.js";
import type { Graph } from "../graph/graph.js";
import { buildGraph } from "../graph/graph.js";
import { descendants } from "../graph/reachability.js";
import { findScopeConflicts } from "../graph/conflicts.js";
import { wsPaths, type WsPaths } from "../store/paths.js";
import { EventLog } from "../store/event-log.js";
import { RunLog } from "../store/run-log.js";
import { writeState, loadRunState } from "../store/snapshot.js";
import { acquireLock } from "../store/lock.js";
import { readHistory, recordDurations } from "../store/history.js";
import { reapGroups } from "../store/group-registry.js";
import { applyEvent, type RunState } from "../store/run-state.js";
import { adapterFor, findMissingTools } from "../tools/registry.js";
import { formatEventLine } from "../report/event-line.js";
import { CircuitBreaker } from "./breaker.js";
import { systemClock, type Clock } from "./clock.js";
import type { RunEvent } from "../events/run-event.js";
import { because } from "../events/end-reason.js";
import { planRun, type Plan } from "./plan.js";
import { schedule, type Gate } from "./scheduler.js";
import { StepRun, type GitMode } from "./step-runner.js";

/** Minimum gap between two state.json snapshots written at step boundaries. */
const SNAPSHOT_MS = 100;

export interface RunOptions {
  /** Project root: state goes to `<cwd>/.worktrees/<id>/`. */
  cwd: string;
  workstream: Workstream;
  env?: NodeJS.ProcessEnv;
  resume?: boolean;
  /** With resume: accept a workstream file that changed since the run being resumed. */
  force?: boolean;
  only?: string[];
  from?: string;
  maxWorkers?: number;
  /** Ready-queue order; "fifo" exists to measure what the critical path buys (bench/). */
  order?: "critical-path" | "fifo";
  /** Abort = Ctrl-C: running steps are killed and end `cancelled`. */
  signal?: AbortSignal;
  /** Called for every event, after it is on disk. */
  onEvent?: (event: RunEvent) => void;
  clock?: Clock;
}

export type RunResult =
  | { kind: "locked"; holder: { pid: number; startedAt: string; host: string }; lockFile: string }
  | { kind: "finished"; state: RunState; exitCode: number; plan: Plan; paths: WsPaths; branch?: string | undefined };

function suggestStep(ws: Workstream, id: string): string {
  const ids = ws.steps.map((s) => s.id);
  return `did you mean "${closest(id, ids)}"? Steps: ${ids.slice(0, 12).join(", ")}${ids.length > 12 ? ", ..." : ""}`;
}

/** Nodes this run will try, from --only / --from / --resume. */
function selectSteps(ws: Workstream, graph: Graph, options: RunOptions, previous: RunState | undefined): Set<number> {
  const nodeOf = (id: string, flag: string): number => {
    const node = graph.index.get(id);
    if (node === undefined) {
      throw new UserError(`${flag} names an unknown step "${id}" in ${ws.id}`, { fix: suggestStep(ws, id) });
    }
    return node;
  };
  let selected = new Set(graph.ids.map((_, i) => i));
  if (options.only && options.only.length > 0) selected = new Set(options.only.map((id) => nodeOf(id, "--only")));
  if (options.from !== undefined) {
    const fromSet = descendants(graph, [nodeOf(options.from, "--from")]);
    selected = new Set([...selected].filter((i) => fromSet.has(i)));
  }
  if (previous) {
    for (const i of [...selected]) if (previous.steps[graph.ids[i] ?? ""]?.state === "passed") selected.delete(i);
  }
  return selected;
}

/** worktree inside a git repository (with a commit), none elsewhere; an explicit setting wins. */
async function decideWorkdir(options: RunOptions, paths: WsPaths, emitWarning: (m: string) => void): Promise<{ workdir: string; branch?: string; git: GitMode; notes: string[] }> {
  const ws = options.workstream;
  const { gitRoot } = await import("../git/repo.js");
  const root = await gitRoot(options.cwd);
  const isolation = ws.execution.isolation ?? (root ? "worktree" : "none");
  if (isolation === "none" || !root) {
    if (ws.execution.isolation === "worktree") throw new UserError(`${ws.id} asks for isolation "worktree", but ${options.cwd} is not inside a git repository`, { fix: `run "git init" and commit, or set execution.isolation to "none"` });
    if (root) {
      const { ensureExcluded } = await import("../git/worktree.js");
      await ensureExcluded(root);
    }
    return { workdir: options.cwd, git: { scopeCheck: Boolean(root), commit: false }, notes: [] };
  }
  const { prepareWorktree } = await import("../git/worktree.js");
  try {
    const tree = await prepareWorktree({ projectRoot: root, wsId: ws.id, treePath: paths.tree, resume: Boolean(options.resume) });
    // Steps see the same relative layout as in the checkout, even when cwd is a subfolder of the repo.
    const workdir = path.join(tree.path, path.relative(root, options.cwd));
    return { workdir, branch: tree.branch, git: { scopeCheck: true, commit: true }, notes: tree.notes };
  } catch (error) {
    if (error instanceof UserError && ws.execution.isolation === undefined) {
      emitWarning(`${error.message}; running in place (isolation "none")`);
      return { workdir: options.cwd, git: { scopeCheck: false, commit: false }, notes: [] };
    }
    throw error;
  }
}

export async function runWorkstream(options: RunOptions): Promise<RunResult> {
  const ws = options.workstream;
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const paths = wsPaths(options.cwd, ws.id);
  const graph = buildGraph(ws);

  const previous = options.resume ? loadRunState(paths) : undefined;
  if (options.resume) {
    if (!previous) throw new UserError(`there is no run of ${ws.id} to resume`, { fix: `start one with: ws run --ws-id ${ws.id}` });
    if (previous.hash !== ws.hash && !options.force) {
      throw new UserError(`${path.relative(options.cwd, ws.file) || ws.file} changed since the run being resumed (${previous.runId})`, {
        fix: "resume anyway with --resume --force, or start a fresh run without --resume",
      });
    }
  }
  const selected = selectSteps(ws, graph, options, previous);
  const selectedSteps = ws.steps.filter((_, i) => selected.has(i));
  const missing = findMissingTools(ws, selectedSteps.filter((s) => s.when?.value !== false), env);
  if (missing.length > 0) {
    const lines = missing.map((m) => `${m.tool} (looked for "${m.binary}") is needed by: ${m.steps.join(", ")}`);
    throw new UserError(`tool not found: ${lines.join("; ")}`, {
      fix: `install it, put it on PATH, or point WS_<TOOL>_BIN at it (e.g. WS_${(missing[0]?.tool ?? "TOOL").toUpperCase().replace(/-/g, "_")}_BIN=/path/to/binary)`,
    });
  }

  const lock = acquireLock(paths.lock);
  if (!lock.ok) return { kind: "locked", holder: lock.holder, lockFile: paths.lock };
  try {
    return await runLocked(options, { ws, env, clock, paths, graph, selected, previous });
  } finally {
    lock.release();
  }
}

interface Prepared {
  ws: Workstream;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  paths: WsPaths;
  graph: Graph;
  selected: Set<number>;
  previous: RunState | undefined;
}

async function runLocked(options: RunOptions, p: Prepared): Promise<RunResult> {
  const { ws, env, clock, paths, graph, selected } = p;
  const started = clock.now();
  const iso = () => new Date(clock.now()).toISOString();
  const events = EventLog.open(paths.events);
  const runLog = RunLog.open(paths.log);
  let state: RunState | undefined = p.previous;
  const durations: Record<string, number> = {};
  let lastSnapshot = -Infinity;
  let snapshotTimer: NodeJS.Timeout | undefined;
  let snapshotError: { error: unknown } | undefined;
  const writeSnapshot = () => {
    clearTimeout(snapshotTimer);
    snapshotTimer = undefined;
    lastSnapshot = performance.now();
    if (state) writeState(paths.state, state);
  };
  const flushLater = () => {
    try {
      writeSnapshot();
    } catch (error) {
      // Thrown from a timer it would crash the process: surface it at the next event instead.
      snapshotError ??= { error };
    }
  };

  const emit = (event: RunEvent) => {
    // Disk first (events.jsonl is the source of truth), then the snapshot at step boundaries, then the user.
    events.append(event);
    const line = formatEventLine(event);
    if (line !== undefined) runLog.line(line);
    state = applyEvent(state, event);
    if (event.type === "run-start" || event.type === "run-end") writeSnapshot();
    else if (event.type === "step-start" || event.type === "step-end") {
      // Each snapshot is the whole state (O(steps)) and an atomic rename costs a flush on ext4:
      // one per step made a 1000-step run several times slower (bench/). At most one write per
      // SNAPSHOT_MS, and the latest state once the burst is over; a reader that finds the snapshot
      // older than events.jsonl folds the events instead (loadRunState).
      const wait = lastSnapshot + SNAPSHOT_MS - performance.now();
      if (wait <= 0) writeSnapshot();
      else snapshotTimer ??= setTimeout(flushLater, wait);
    }
    if (snapshotError !== undefined) throw snapshotError.error;
    if (event.type === "step-end" && event.state === "passed") durations[event.step] = event.durationMs;
    options.onEvent?.(event);
  };
  const pendingWarnings: string[] = [];

  try {
    const where = await decideWorkdir(options, paths, (m) => pendingWarnings.push(m));
    const maxWorkers = Math.max(1, options.maxWorkers ?? ws.execution.maxWorkers);
    const plan = planRun(ws, graph, readHistory(paths.history), maxWorkers, selected);
    emit({
      type: "run-start",
      at: iso(),
      runId: `${new Date(started).toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomUUID().slice(0, 6)}`,
      wsId: ws.id,
      file: ws.file,
      hash: ws.hash,
      steps: graph.ids,
      selected: [...selected].sort((a, b) => a - b).map((i) => graph.ids[i] ?? ""),
      maxWorkers,
      pid: process.pid,
      resume: Boolean(options.resume),
      workdir: where.workdir,
      branch: where.branch,
    });
    // Steps of a run that died by kill -9 may still be running: they must not edit the tree beside their re-run.
    const reaped = reapGroups(paths.groups);
    if (reaped > 0) pendingWarnings.push(`killed ${reaped} process group${reaped === 1 ? "" : "s"} left running by an interrupted run`);
    for (const message of [...pendingWarnings, ...where.notes]) emit({ type: "warning", at: iso(), message });

    if (!options.resume) {
      // A fresh run starts the numbering again: old attempt logs of the steps it runs would mix in.
      for (const node of selected) {
        const id = graph.ids[node];
        if (id) fs.rmSync(paths.stepDir(id), { recursive: true, force: true });
      }
    }
    const skipsItself = (node: number) => ws.steps[node]?.when?.value === false;
    const breakers = new Map<string, CircuitBreaker>();
    const breakerFor = (tool: string) => {
      // A failing shell command says nothing about "the shell": only agent tools get breakers.
      if (tool === "shell") return undefined;
      let breaker = breakers.get(tool);
      if (!breaker) {
        breaker = new CircuitBreaker(tool, ws.circuitBreaker, () => clock.now(), (s, failures) =>
          emit({ type: "breaker", at: iso(), tool, state: s, failures, cooldownMs: s === "open" ? ws.circuitBreaker.cooldown * 1000 : undefined }),
        );
        breakers.set(tool, breaker);
      }
      return breaker;
    };

    // Every attempt's span: a step that edited a file and ended mid-way through another step's
    // attempt still owns that edit, so scope checks look at all overlapping attempts.
    const spans: Array<{ step: Step; start: number; end: number | undefined }> = [];
    const runs = new Map<number, StepRun>();
    const deps = {
      workstream: ws,
      workdir: where.workdir,
      paths,
      env,
      clock,
      git: where.git,
      adapter: (step: Step) => adapterFor(ws, step.tool),
      emit,
      othersScopes: (step: Step, since: number) =>
        spans.filter((x) => x.step !== step && (x.end === undefined || x.end >= since)).map((x) => (x.step.hasFileScope ? x.step.fileScope : ["**"])),
    };
    const conflicts = ws.execution.fileConflicts === "serialize" ? findScopeConflicts(ws, graph) : [];
    const groups = ws.stepGroups.map((g) => ({
      members: g.steps.map((id) => graph.index.get(id)).filter((i): i is number => i !== undefined),
      sequential: g.execute === "sequential",
      maxWorkers: g.maxWorkers,
    }));

    const finals = await schedule({
      ids: graph.ids,
      deps: graph.deps,
      selected,
      maxWorkers,
      rateLimitMs: ws.execution.rateLimitDelay * 1000,
      onFailure: ws.execution.onFailure,
      priority: options.order === "fifo" ? undefined : plan.priority,
      exclusive: conflicts.map((c) => [c.a, c.b] as const),
      groups,
      clock,
      signal: options.signal,
      gate: (node): Gate => {
        if (skipsItself(node)) return { ok: true };
        const breaker = breakerFor(ws.steps[node]?.tool ?? "shell");
        if (!breaker) return { ok: true };
        const gate = breaker.gate();
        return gate.ok ? { ok: true, token: gate.trial } : gate;
      },
      run: async (node, signal, token) => {
        const step = ws.steps[node]!;
        if (skipsItself(node)) {
          // Decided in place, once its dependencies are done: like a step that ran and did nothing.
          emit({ type: "step-end", at: iso(), step: step.id, state: "skipped", reason: because("skipped"), attempts: 0, durationMs: 0 });
          return { final: true, state: "skipped", reason: because("skipped") };
        }
        const breaker = breakerFor(step.tool);
        const trial = token === true;
        breaker?.started(trial);
        let stepRun = runs.get(node);
        if (!stepRun) runs.set(node, (stepRun = new StepRun(step, deps, p.previous?.steps[step.id]?.attempts ?? 0)));
        const span = { step, start: clock.now(), end: undefined as number | undefined };
        spans.push(span);
        try {
          const result = await stepRun.attempt(signal);
          if (!(result.final && result.state === "cancelled")) breaker?.record(result.toolFault, trial, result.quota);
          return result;
        } finally {
          span.end = clock.now();
          // Spans older than every running attempt can no longer matter.
          const oldest = Math.min(...spans.filter((x) => x.end === undefined).map((x) => x.start));
          for (let k = spans.length - 1; k >= 0; k--) if ((spans[k]!.end ?? Infinity) < oldest) spans.splice(k, 1);
        }
      },
      onFinal: (node, final) => {
        // A step cancelled between attempts has not said so yet; steps that ended emitted their own step-end.
        if (final.state === "cancelled") runs.get(node)?.cancel();
        if (final.state === "blocked" || (final.state === "cancelled" && !runs.has(node))) {
          // Under stop/abort, a queued step whose tool's breaker is open says so rather than just "cancelled".
          const open = final.state === "cancelled" && breakers.get(ws.steps[node]?.tool ?? "")?.current === "open";
          const reason = open ? because("circuit_open") : final.reason;
          emit({ type: "step-end", at: iso(), step: graph.ids[node] ?? String(node), state: final.state, reason, attempts: 0, durationMs: 0 });
        }
      },
    });

    const interrupted = options.signal?.aborted === true;
    const anyBad = [...finals.entries()].some(([node, f]) => selected.has(node) && (f.state === "failed" || f.state === "blocked" || f.state === "cancelled"));
    // The CLI aborts with the signal's name as the reason: 128 + its number, like a shell reports it.
    const exitCode = interrupted ? (options.signal?.reason === "SIGTERM" ? 143 : 130) : anyBad ? 1 : 0;
    const sequentialMs = Object.values(state?.steps ?? {}).reduce((sum, r) => sum + (r.selected ? (r.durationMs ?? 0) : 0), 0);
    try {
      recordDurations(paths.history, durations);
    } catch (error) {
      // History only feeds estimates and priorities: losing it must not fail a run whose steps passed.
      emit({ type: "warning", at: iso(), message: `durations not recorded: ${(error as Error).message}` });
    }
    emit({
      type: "run-end",
      at: iso(),
      outcome: interrupted ? "cancelled" : anyBad ? "failed" : "passed",
      exitCode,
      durationMs: clock.now() - started,
      sequentialMs,
    });
    return { kind: "finished", state: state!, exitCode, plan, paths, branch: where.branch };
  } finally {
    clearTimeout(snapshotTimer);
    events.close();
    runLog.close();
  }
}

/** For `ws run --dry-run`: the plan without running anything. */
export function dryRun(cwd: string, ws: Workstream, maxWorkers?: number, only?: string[], from?: string): { plan: Plan; selected: string[] } {
  const graph = buildGraph(ws);
  const selected = selectSteps(ws, graph, { cwd, workstream: ws, only, from }, undefined);
  const workers = Math.max(1, maxWorkers ?? ws.execution.maxWorkers);
  const plan = planRun(ws, graph, readHistory(wsPaths(cwd, ws.id).history), workers, selected);
  return { plan, selected: [...selected].map((i) => graph.ids[i] ?? "") };
}
