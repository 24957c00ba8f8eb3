import { because } from "../events/end-reason.js";
import type { ActivityKind, ApprovalVia, EndReason, RunEvent, StepState, Usage } from "../events/run-event.js";
import { addUsage } from "../events/usage.js";
import { unreachable } from "../events/run-event.js";
import { idRecord } from "../id-record.js";
import type { TimeSaved } from "../events/time-saved.js";

/** What `ws status` shows for one step; folded from the events of a run. */
export interface StepRecord {
  id: string;
  state: StepState;
  reason?: EndReason | undefined;
  /** Attempts started (they number the logs), including the interrupted ones. */
  attempts: number;
  /** Of `attempts`, those cut short from outside (Ctrl-C, an abort, a lost race, ws killed): they
   *  reached no outcome, so they spent no retry and are not shown as tries. */
  interrupted?: number | undefined;
  /** An attempt has started and not ended: if its run is gone (kill -9), it was cut short. */
  inAttempt?: true | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  durationMs?: number | undefined;
  /** The latest attempt's log, relative to the workstream's state folder. */
  log?: string | undefined;
  usage?: Usage | undefined;
  commit?: string | undefined;
  /** The last attempt passed but the step has not ended: ws was killed while committing its
   *  files, and a resume commits them without running the step again. */
  commitPending?: boolean | undefined;
  /** Its compensation, once a rollback reached it: running, or how it ended. */
  compensation?: { state: "running" | "passed" | "failed"; reason?: EndReason | undefined; log?: string | undefined } | undefined;
  /** A passed step's outputs ($WS_OUTPUT). */
  outputs?: Record<string, string> | undefined;
  /** A passed step's artifacts, relative to .worktrees/<id>/artifacts/<step>/. */
  artifacts?: string[] | undefined;
  /** Why a failed, blocked or cancelled step ended, in one line (the tool's message, the fix). */
  detail?: string | undefined;
  /** The tool of the latest attempt (a step may fall back to another of its list). */
  tool?: string | undefined;
  /** Parked: its last attempt met a quota (it starts again when the tool's limit resets), it
   *  waits at its approval gate (since when; until its timeout rejects), or its last attempt
   *  failed and the retry waits out retry_delay (kept when the run is cut short, so a resume
   *  waits the rest). */
  waiting?:
    | { reason: "quota"; until?: string | undefined }
    | { reason: "approval"; since: string; prompt: string; until?: string | undefined }
    | { reason: "retry"; until: string }
    | undefined;
  /** Its approval gate's decision: who, when, how, and the reason given with a rejection. */
  approval?: { approved: boolean; by: string; at: string; via: ApprovalVia; reason?: string | undefined } | undefined;
  /** Its latest activity (what the agent did last, and its usage so far), kept after the step ends. */
  activity?: { at: string; attempt: number; kind: ActivityKind; text: string; usage?: Usage | undefined } | undefined;
  /** What its running attempt last wrote to $WS_PROGRESS (0..1): ws status counts it as the live view does. */
  progress?: number | undefined;
  /** Whether this run selected the step (false: left as it was by --only/--from/--resume). */
  selected: boolean;
}

/** The snapshot written to state.json: a pure function of events.jsonl (see `foldEvents`). */
export interface RunState {
  version: 1;
  runId: string;
  wsId: string;
  file: string;
  hash: string;
  pid: number;
  startedAt: string;
  endedAt?: string | undefined;
  status: "running" | "passed" | "failed" | "cancelled" | "held" | "rolled_back";
  exitCode?: number | undefined;
  durationMs?: number | undefined;
  sequentialMs?: number | undefined;
  /** Against one at a time, and how busy the workers were (run-end; see events/time-saved.ts). */
  timeSaved?: TimeSaved | undefined;
  workdir: string;
  branch?: string | undefined;
  /** The commit the steps build on (worktree runs). */
  base?: string | undefined;
  /** Step ids in file order. */
  order: string[];
  steps: Record<string, StepRecord>;
  breakers: Record<string, { state: "closed" | "open" | "half-open"; failures: number }>;
  /** The plan's estimate of the run's wall time (history medians), when there was history. */
  estimateMs?: number | undefined;
  /** What the run spent before its run-start (its worktree): inside estimateMs and durationMs, before startedAt. */
  setupMs?: number | undefined;
  /** Expected duration per selected step (ms), for progress weighted by work. */
  expectedMs?: Record<string, number> | undefined;
  /** Each selected step's share of the progress when the plan gave one (run-start's weights). */
  weights?: Record<string, number> | undefined;
  /** The file's step groups and the plan's waves, from run-start: what group and wave timing read. */
  groups?: Array<{ id: string; steps: string[] }> | undefined;
  waves?: string[][] | undefined;
  /** The rollback of this run's passed steps: running (a kill -9 leaves it so: --resume finishes it), or done. */
  rollback?: { state: "running" | "passed" | "failed"; steps: string[] } | undefined;
}

/**
 * Apply one event to the snapshot. A `run-start` with `resume: true` carries the previous run's
 * step records forward (passed steps stay passed), which is what makes `--resume` and `ws status`
 * agree after any number of interrupted runs. One flat case per event type, kept together (over
 * the 100-line rule) so the whole fold reads in one place.
 */
export function applyEvent(state: RunState | undefined, event: RunEvent): RunState | undefined {
  if (event.type === "run-start") {
    const previous = event.resume ? state : undefined;
    const steps = idRecord<StepRecord>();
    // A set: a full run selects every step, and includes() per step was quadratic.
    const chosen = new Set(event.selected);
    for (const id of event.steps) {
      const old = previous?.steps[id];
      const selected = chosen.has(id);
      const interrupted = old ? interruptedAttempts(old) || undefined : undefined;
      if (old && (!selected || (old.state === "passed" && !isUndone(old)))) {
        // Kept from the previous run; one that was running when that run died is not any more.
        steps[id] = old.state === "running"
          ? { ...old, state: "cancelled", reason: because("cancelled"), selected: false, interrupted, inAttempt: undefined }
          : { ...old, selected: false };
      } else if (old) {
        // Run again: its earlier attempts still number the logs, and the interrupted ones stay apart;
        // a retry cut short in its delay still waits the rest of it.
        const retry = old.waiting?.reason === "retry" ? old.waiting : undefined;
        steps[id] = { id, state: "pending", attempts: old.attempts, interrupted, selected, ...(retry ? { waiting: retry } : {}) };
      } else {
        steps[id] = pendingRecord(id, selected);
      }
    }
    return {
      version: 1,
      runId: event.runId,
      wsId: event.wsId,
      file: event.file,
      hash: event.hash,
      pid: event.pid,
      startedAt: event.at,
      status: "running",
      workdir: event.workdir,
      branch: event.branch,
      base: event.runBase ?? previous?.base,
      order: [...event.steps],
      estimateMs: event.estimateMs,
      setupMs: event.setupMs,
      expectedMs: event.expectedMs,
      weights: event.weights,
      groups: event.groups,
      waves: event.waves,
      steps,
      breakers: idRecord(),
    };
  }
  if (!state) return state;
  const step = "step" in event && event.step !== undefined ? state.steps[event.step] : undefined;
  switch (event.type) {
    case "step-start":
      if (step) {
        step.state = "running";
        step.reason = undefined;
        step.commitPending = undefined;
        step.tool = event.tool;
        step.waiting = undefined;
        step.attempts = Math.max(step.attempts, event.attempt);
        step.inAttempt = true;
        step.startedAt ??= event.at;
        step.selected = true;
      }
      break;
    case "test-start":
    case "test-end":
    case "warning":
      break;
    case "attempt-end":
      if (step) {
        step.log = event.log;
        step.usage = addUsage(step.usage, event.usage);
        step.commitPending = event.passed || undefined;
        step.inAttempt = undefined;
        // A retry starts its work again.
        step.progress = undefined;
        if (event.reason.kind === "cancelled") step.interrupted = (step.interrupted ?? 0) + 1;
        step.detail = event.passed ? undefined : event.detail;
        if (event.free) step.waiting = { reason: "quota", until: event.resetAt };
      }
      break;
    case "step-end":
      if (step) {
        step.state = event.state;
        step.reason = event.reason;
        step.attempts = event.attempts;
        step.interrupted = event.interrupted;
        step.inAttempt = undefined;
        step.endedAt = event.at;
        step.durationMs = event.durationMs;
        step.commit = event.commit;
        step.commitPending = undefined;
        step.outputs = event.outputs;
        step.artifacts = event.artifacts;
        step.detail = event.detail ?? (event.state === "passed" ? undefined : step.detail);
        // Cancelled in its retry delay: a resume still owes the step the rest of the wait.
        if (event.state !== "cancelled" || step.waiting?.reason !== "retry") step.waiting = undefined;
        step.progress = undefined;
        step.selected = true;
      }
      break;
    case "breaker":
      // A step's own breaker (circuit_breaker.per "step") is listed as "tool (step)".
      state.breakers[event.step === undefined ? event.tool : `${event.tool} (${event.step})`] = { state: event.state, failures: event.failures };
      // A parked step learns its reset time from its tool's breaker (the cooldown, when the tool gave none).
      for (const record of stepRecords(state)) {
        if (event.step !== undefined && record.id !== event.step) continue;
        if (record.waiting?.reason === "quota" && record.tool === event.tool && event.state === "open") record.waiting.until ??= event.until;
      }
      break;
    case "approval-wait":
      if (step) {
        step.waiting = { reason: "approval", since: event.at, prompt: event.prompt, until: event.timeoutAt };
        step.approval = undefined;
      }
      break;
    case "approval-end":
      if (step) {
        step.waiting = undefined;
        step.approval = { approved: event.approved, by: event.by, at: event.at, via: event.via, reason: event.reason };
      }
      break;
    case "activity":
      if (step) step.activity = { at: event.at, attempt: event.attempt, kind: event.kind, text: event.text, usage: event.usage };
      break;
    case "step-wait":
      // A retry's delay is the one wait that outlives the run (--resume keeps it); the rest are live only.
      if (step && event.wait === "retry" && event.until !== undefined) step.waiting = { reason: "retry", until: event.until };
      break;
    case "progress":
      if (step) step.progress = event.fraction;
      break;
    case "rollback-start":
      state.rollback = { state: "running", steps: event.steps };
      break;
    case "compensate-start":
      if (step) step.compensation = { state: "running" };
      break;
    case "compensate-end":
      if (step) step.compensation = { state: event.passed ? "passed" : "failed", reason: event.reason, log: event.log };
      break;
    case "rollback-end":
      if (state.rollback) state.rollback.state = event.passed ? "passed" : "failed";
      break;
    case "run-end":
      state.status = event.outcome;
      state.endedAt = event.at;
      state.exitCode = event.exitCode;
      state.durationMs = event.durationMs;
      state.sequentialMs = event.sequentialMs;
      state.timeSaved = event.savedMs !== undefined && event.savedFraction !== undefined && event.efficiency !== undefined && event.workers !== undefined
        ? { savedMs: event.savedMs, savedFraction: event.savedFraction, efficiency: event.efficiency, workers: event.workers }
        : undefined;
      for (const record of stepRecords(state)) {
        if (record.state === "running") {
          record.state = "cancelled";
          record.reason = because("cancelled");
          record.interrupted = interruptedAttempts(record) || undefined;
          record.inAttempt = undefined;
        }
      }
      break;
    default:
      unreachable(event);
  }
  return state;
}

/**
 * A step that passed and whose compensation then undid it (a rollback): its work is no longer on
 * the run's branch, so nothing may count it as passed: a resume runs it again, views say "undone".
 */
export function isUndone(record: Pick<StepRecord, "state" | "compensation">): boolean {
  return record.state === "passed" && record.compensation?.state === "passed";
}

/** The attempts of a step cut short so far, counting one still open when its run died (a kill -9
 *  leaves no attempt-end): a resume gives the step its retries again for those. */
export function interruptedAttempts(record: Pick<StepRecord, "interrupted" | "inAttempt">): number {
  return (record.interrupted ?? 0) + (record.inAttempt ? 1 : 0);
}

/**
 * A run whose process is gone (kill -9, a crash) as `ws status` must show it: nothing is running
 * or waiting any more. A step that was running ends `cancelled` (its open attempt counts as
 * interrupted, as a resume will count it), one waiting at its gate or for a quota likewise; the
 * run's status stays as recorded (the caller calls the run interrupted). Changes `state` in place.
 */
export function settleInterrupted(state: RunState): void {
  for (const record of stepRecords(state)) {
    const wasWaiting = record.waiting && (record.state === "pending" || record.state === "running") ? record.waiting.reason : undefined;
    if (record.state !== "running" && wasWaiting === undefined) continue;
    record.detail = wasWaiting === "approval" ? "interrupted at its approval gate" : wasWaiting === "quota" ? "interrupted while parked on its quota" : wasWaiting === "retry" ? "interrupted while waiting to retry" : "interrupted (ws is gone)";
    record.state = "cancelled";
    record.reason = because("cancelled");
    record.interrupted = interruptedAttempts(record) || undefined;
    record.inAttempt = undefined;
    record.waiting = undefined;
  }
}

/** Fold a whole event log (possibly several runs, later ones resuming earlier ones). */
export function foldEvents(events: Iterable<RunEvent>): RunState | undefined {
  let state: RunState | undefined;
  for (const event of events) state = applyEvent(state, event);
  return state;
}

/** The totals `ws status` and the run summary show. */
export function totalUsage(state: RunState): Usage | undefined {
  let total: Usage | undefined;
  for (const record of stepRecords(state)) total = addUsage(total, record.usage);
  return total;
}

/**
 * The step records in file order: what Object.values(state.steps) gives (the run-start builds
 * `steps` from `order`), without its cost: V8 keeps a 50 000-key record as a dictionary and
 * sorts its keys on every Object.values, ~0.1 s each, and `ws status` took five (bench/scale.mjs).
 * Kept per state: even one lookup per id is ~20 ms at 50 000 steps (the table misses the cache),
 * and a run asks several times. The fold changes records in place and replaces them only at a
 * run-start, which makes a new state; a state whose `steps` or `order` was swapped is listed again.
 */
export function stepRecords(state: RunState): readonly StepRecord[] {
  const known = listed.get(state);
  if (known?.steps === state.steps && known.order === state.order) return known.records;
  const records: StepRecord[] = [];
  for (const id of state.order) {
    const record = state.steps[id];
    if (record !== undefined) records.push(record);
  }
  listed.set(state, { steps: state.steps, order: state.order, records });
  return records;
}

const listed = new WeakMap<RunState, { steps: RunState["steps"]; order: string[]; records: StepRecord[] }>();

/** A step's record at a run-start, before anything happened to it in any run. */
export function pendingRecord(id: string, selected: boolean): StepRecord {
  return { id, state: "pending", attempts: 0, selected };
}

/** A record a snapshot may leave out: a step this run did not select and no run has started. */
export function isUntouched(record: StepRecord): boolean {
  if (record.state !== "pending" || record.attempts !== 0 || record.selected) return false;
  // Named reads, not for-in with a computed key: ~0.2 µs a record, 50 000 records per snapshot.
  for (const key of OPTIONAL) if (record[key] !== undefined) return false;
  return true;
}

/** Every field pendingRecord leaves out; the type makes a new StepRecord field a compile error here until listed. */
const OPTIONAL = Object.keys({
  reason: true,
  interrupted: true,
  inAttempt: true,
  startedAt: true,
  endedAt: true,
  durationMs: true,
  log: true,
  usage: true,
  commit: true,
  commitPending: true,
  compensation: true,
  outputs: true,
  artifacts: true,
  detail: true,
  tool: true,
  waiting: true,
  approval: true,
  activity: true,
  progress: true,
} satisfies Record<Exclude<keyof StepRecord, "id" | "state" | "attempts" | "selected">, true>) as Array<keyof StepRecord>;
