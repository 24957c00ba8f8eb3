import type { Segment, Timeline, TimelineRow } from "./timeline.js";

/**
 * The run as Chrome Trace Event JSON (the format of chrome://tracing, Perfetto and Bazel's
 * `--profile`), from the timeline layout (src/report/timeline.ts). A run is slices on lanes, as a
 * profile is slices on threads: pid 1 is the run, each worker lane a thread (tid = lane + 1), on
 * which an attempt is a complete event ("X") holding its acceptance tests as nested slices, with
 * the lane's worktree preparation before it and the commit after it. Tid 0 carries the run's own
 * span. Waits for a worker, the rate limit, an order, an approval, a quota or a breaker happen
 * before a step has a lane and overlap each other, which slices on one thread must not: they are
 * async events ("b"/"e", one id each), as is compensation (it runs outside the lanes).
 * Times are microseconds from the run's start (`otherData.startedAt` says when that was).
 */

interface BaseEvent {
  name: string;
  /** Microseconds from the run's start. */
  ts: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown> | undefined;
}

export interface CompleteEvent extends BaseEvent {
  ph: "X";
  cat: string;
  /** Microseconds. */
  dur: number;
}

export interface AsyncEvent extends BaseEvent {
  ph: "b" | "e";
  cat: string;
  /** Pairs a begin with its end. */
  id: string;
}

export interface MetadataEvent {
  name: "process_name" | "thread_name" | "thread_sort_index";
  ph: "M";
  ts: 0;
  pid: number;
  tid: number;
  args: { name: string } | { sort_index: number };
}

export type TraceEvent = CompleteEvent | AsyncEvent | MetadataEvent;

export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
  otherData?: Record<string, unknown>;
}

const PID = 1;
const RUN_TID = 0;
const us = (ms: number) => Math.round(ms * 1000);

export function renderTrace(timeline: Timeline): Trace {
  const meta: TraceEvent[] = [
    { name: "process_name", ph: "M", ts: 0, pid: PID, tid: RUN_TID, args: { name: `ws run ${timeline.wsId}` } },
    { name: "thread_name", ph: "M", ts: 0, pid: PID, tid: RUN_TID, args: { name: "run" } },
    { name: "thread_sort_index", ph: "M", ts: 0, pid: PID, tid: RUN_TID, args: { sort_index: -1 } },
  ];
  const slices: CompleteEvent[] = [
    {
      name: `run ${timeline.runId}`, cat: "run", ph: "X", ts: 0, dur: us(timeline.makespanMs), pid: PID, tid: RUN_TID,
      args: { status: timeline.status, makespanMs: timeline.makespanMs, stepTimeMs: timeline.stepTimeMs, criticalPath: timeline.criticalPath.steps, workers: timeline.workers },
    },
  ];
  const asyncs: AsyncEvent[] = [];
  const lanes = new Set<number>();

  for (const row of timeline.rows) {
    const onLane = new Set<Segment>();
    for (const bar of row.attempts) {
      const tid = bar.lane + 1;
      lanes.add(bar.lane);
      const step = { step: row.step, attempt: bar.attempt };
      // The lane is the step's from its worktree's preparation to its commit (as the layout assigns it).
      const prepare = row.segments.find((s) => s.kind === "wait-lane" && s.end === bar.start && s.attempt === bar.attempt);
      if (prepare) {
        onLane.add(prepare);
        slices.push({ name: `${row.step}: ${prepare.label}`, cat: "wait", ph: "X", ts: us(prepare.start), dur: us(prepare.end - prepare.start), pid: PID, tid, args: { ...step, kind: prepare.kind } });
      }
      slices.push({
        name: `${row.step} #${bar.attempt}`, cat: "attempt", ph: "X", ts: us(bar.start), dur: us(bar.end - bar.start), pid: PID, tid,
        args: {
          ...step, tool: bar.tool, passed: bar.passed, reason: bar.reason, lane: bar.lane, critical: row.critical,
          ...(bar.detail !== undefined ? { detail: bar.detail } : {}),
          ...(bar.open ? { running: true } : {}),
          ...(bar.usage ? { usage: bar.usage } : {}),
        },
      });
      for (const test of bar.tests) {
        // Inside its attempt's span, as nesting on a thread requires (the layout already keeps it there).
        const start = Math.min(Math.max(test.start, bar.start), bar.end);
        const end = Math.max(start, Math.min(test.end, bar.end));
        slices.push({
          name: `test ${test.test ?? "?"}: ${test.command}`, cat: "test", ph: "X", ts: us(start), dur: us(end - start), pid: PID, tid,
          args: { ...step, test: test.test, command: test.command, ...(test.passed !== undefined ? { passed: test.passed } : {}) },
        });
      }
      const commit = row.segments.find((s) => s.kind === "commit" && s.attempt === bar.attempt);
      if (commit) {
        onLane.add(commit);
        slices.push({ name: `${row.step}: commit`, cat: "commit", ph: "X", ts: us(commit.start), dur: us(commit.end - commit.start), pid: PID, tid, args: { ...step, label: commit.label } });
      }
    }
    asyncs.push(...offLane(row, onLane));
  }
  if (timeline.rollback) {
    const { start, end, passed } = timeline.rollback;
    asyncs.push(
      { name: "rollback", cat: "rollback", ph: "b", id: "rollback", ts: us(start), pid: PID, tid: RUN_TID, args: passed !== undefined ? { passed } : {} },
      { name: "rollback", cat: "rollback", ph: "e", id: "rollback", ts: us(end), pid: PID, tid: RUN_TID },
    );
  }
  for (const lane of [...lanes].sort((a, b) => a - b)) {
    meta.push(
      { name: "thread_name", ph: "M", ts: 0, pid: PID, tid: lane + 1, args: { name: `worker ${lane + 1}` } },
      { name: "thread_sort_index", ph: "M", ts: 0, pid: PID, tid: lane + 1, args: { sort_index: lane } },
    );
  }
  // Parents before their children: by start, the longer first at the same start.
  slices.sort((a, b) => a.tid - b.tid || a.ts - b.ts || b.dur - a.dur);
  asyncs.sort((a, b) => a.ts - b.ts || (a.ph === b.ph ? 0 : a.ph === "e" ? -1 : 1));
  return {
    traceEvents: [...meta, ...slices, ...asyncs],
    displayTimeUnit: "ms",
    otherData: {
      wsId: timeline.wsId,
      runId: timeline.runId,
      startedAt: new Date(timeline.startedAt).toISOString(),
      status: timeline.status,
      ...(timeline.baseCommit !== undefined ? { baseCommit: timeline.baseCommit } : {}),
      ...(timeline.branch !== undefined ? { branch: timeline.branch } : {}),
    },
  };
}

/** A step's waits off the lanes (and its compensation), each an async begin/end pair on the run's thread. */
function offLane(row: TimelineRow, onLane: Set<Segment>): AsyncEvent[] {
  const events: AsyncEvent[] = [];
  row.segments.forEach((s, k) => {
    if (onLane.has(s) || !(s.kind.startsWith("wait-") || s.kind === "compensate")) return;
    const id = `${row.step}/${k}`;
    const cat = s.kind === "compensate" ? "compensate" : "wait";
    const name = `${row.step}: ${s.label}`;
    const args = { step: row.step, kind: s.kind, ...(s.attempt !== undefined ? { attempt: s.attempt } : {}), ...(s.open ? { open: true } : {}), ...(s.passed !== undefined ? { passed: s.passed } : {}) };
    events.push({ name, cat, ph: "b", id, ts: us(s.start), pid: PID, tid: RUN_TID, args }, { name, cat, ph: "e", id, ts: us(s.end), pid: PID, tid: RUN_TID });
  });
  return events;
}
