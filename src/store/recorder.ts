import type { RunListener } from "../events/listener.js";
import type { RunEvent } from "../events/run-event.js";
import { formatEventLine } from "../report/event-line.js";
import { EventLog } from "./event-log.js";
import { recordDurations } from "./history.js";
import { OverheadMeter } from "./overhead.js";
import type { WsPaths } from "./paths.js";
import { RunLog } from "./run-log.js";
import type { RunState } from "./run-state.js";
import { writeState } from "./snapshot.js";
import { idRecord } from "../id-record.js";

/** Minimum gap between two state.json snapshots written at step boundaries. */
const SNAPSHOT_MS = 250;
/** ...and at least this many times the last snapshot's cost, so snapshots stay under ~5 % of a run's time. */
const SNAPSHOT_COST_FACTOR = 20;

/**
 * What makes a run readable by `ws status` and continuable by `--resume`: events.jsonl (the
 * source of truth), orchestrator.log, state.json and history.json. Files open at the first event,
 * which the engine emits only once it holds the run's lock.
 */
export function recordRun(paths: WsPaths): RunListener[] {
  return [new EventLogListener(paths.events), new RunLogListener(paths.log), new SnapshotListener(paths.state), new HistoryListener(paths.history)];
}

class EventLogListener implements RunListener {
  private log: EventLog | undefined;
  constructor(private readonly file: string) {}
  onEvent(event: RunEvent): void {
    (this.log ??= EventLog.open(this.file)).append(event);
  }
  close(): void {
    this.log?.close();
  }
}

class RunLogListener implements RunListener {
  private log: RunLog | undefined;
  constructor(private readonly file: string) {}
  onEvent(event: RunEvent): void {
    const line = formatEventLine(event);
    if (line !== undefined) (this.log ??= RunLog.open(this.file)).line(line);
  }
  close(): void {
    this.log?.close();
  }
}

/**
 * state.json at run start and end, and at step boundaries at most once per SNAPSHOT_MS: each
 * snapshot is the whole state (O(steps)) and an atomic rename costs a flush on ext4, so one per
 * step made a 1000-step run several times slower (bench/). The latest state is written once a
 * burst is over; a reader that finds the snapshot older than events.jsonl folds the events instead.
 * At 50 000 steps one snapshot costs ~0.3 s, so the gap also grows with what the last one cost.
 */
class SnapshotListener implements RunListener {
  private last = -Infinity;
  private gap = SNAPSHOT_MS;
  private timer: NodeJS.Timeout | undefined;
  private state: RunState | undefined;
  /** Thrown from a timer it would crash the process: surfaced at the next step boundary instead. */
  private failure: { error: unknown } | undefined;

  constructor(private readonly file: string) {}

  onEvent(event: RunEvent, state: RunState): void {
    this.state = state;
    if (event.type === "run-start" || event.type === "run-end") this.write();
    else if (event.type === "step-start" || event.type === "step-end") {
      // A write that failed in the timer surfaces at a step boundary, as a direct write would: never
      // mid-step (at an attempt's end), where it would cut the step off before its step-end is logged.
      if (this.failure) throw this.failure.error;
      const wait = this.last + this.gap - performance.now();
      if (wait <= 0) this.write();
      else this.timer ??= setTimeout(() => this.writeLater(), wait);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    if (this.failure) throw this.failure.error;
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = performance.now();
    if (this.state) writeState(this.file, this.state);
    this.gap = Math.max(SNAPSHOT_MS, SNAPSHOT_COST_FACTOR * (performance.now() - this.last));
  }

  private writeLater(): void {
    try {
      this.write();
    } catch (error) {
      this.failure ??= { error };
    }
  }
}

/** Durations of the steps that passed, for the next run's critical path and estimate; ws's own
 *  overhead in the run (overhead.ts), for the same estimate; and the wall time of a full
 *  one-worker run that passed, for an honest speed-up of the parallel ones. */
class HistoryListener implements RunListener {
  private readonly durations = idRecord<number>();
  private start: Extract<RunEvent, { type: "run-start" }> | undefined;
  private readonly overhead = new OverheadMeter();
  constructor(private readonly file: string) {}
  onEvent(event: RunEvent): void {
    this.overhead.observe(event);
    if (event.type === "run-start") this.start = event;
    if (event.type === "step-end" && event.state === "passed") this.durations[event.step] = event.durationMs;
  }

  ending(state: RunState, at: string): RunEvent[] | void {
    const start = this.start;
    const full = start !== undefined && start.maxWorkers === 1 && !start.resume && start.selected.length === start.steps.length;
    const oneWorker = full && Object.values(state.steps).every((r) => r.state === "passed")
      ? { runId: start.runId, hash: start.hash, wallMs: Date.parse(at) - Date.parse(start.at) }
      : undefined;
    try {
      recordDurations(this.file, this.durations, oneWorker, this.overhead.measure(at));
    } catch (error) {
      // History only feeds estimates and priorities: losing it must not fail a run whose steps passed.
      return [{ type: "warning", at, message: `durations not recorded: ${(error as Error).message}` }];
    }
  }
}
