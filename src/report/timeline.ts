import { formatReason } from "../events/end-reason.js";
import type { EventOf, RunEvent, StepState, Usage } from "../events/run-event.js";
import { unreachable } from "../events/run-event.js";
import { addUsage } from "../events/usage.js";

/**
 * The layout every picture of a run draws (the HTML report, `ws status --timeline`, the Mermaid
 * gantt, the trace): a pure function of the run's events, computed once, the way `src/render/`
 * draws one graph view many ways. Times are ms since the run's start.
 */

/** What a stretch of a step's row was spent on. */
export type SegmentKind =
  /** The tool ran (an attempt, from step-start to its acceptance tests' start or its end). */
  | "attempt"
  /** One acceptance test. */
  | "test"
  /** A passed attempt's changes committed and joined onto the run's branch. */
  | "commit"
  | "compensate"
  /** Ready, but every worker was busy. */
  | "wait-worker"
  /** Ready, held by execution.rate_limit_delay. */
  | "wait-rate"
  /** Ready, held by a step it must not run beside (file_conflicts serialize) or its group's order and max_workers. */
  | "wait-order"
  | "wait-approval"
  /** Parked: the tool's quota ran out; it starts again when the limit resets. */
  | "wait-quota"
  /** Its tool's circuit breaker is open. */
  | "wait-breaker"
  /** It has a worker; ws prepares its worktree. */
  | "wait-lane"
  /** A failed attempt's retry_delay (with its backoff): no worker is held. */
  | "wait-retry";

export interface Segment {
  kind: SegmentKind;
  start: number;
  end: number;
  /** The attempt it belongs to (tests, commit, waits before a retry: the attempt they precede or follow). */
  attempt?: number | undefined;
  /** The acceptance test's number (1-based) for kind "test". */
  test?: number | undefined;
  /** One line: the test's command, the wait's cause. */
  label: string;
  /** Still going when the events end (a snapshot of a running run). */
  open?: true | undefined;
  passed?: boolean | undefined;
}

/** One attempt as a bar: from its step-start to its attempt-end, with its tests inside. */
export interface AttemptBar {
  attempt: number;
  start: number;
  end: number;
  tool: string;
  passed: boolean;
  /** How it ended ("passed", "exit:1", "lost_race", …), or "running". */
  reason: string;
  detail?: string | undefined;
  /** A race member stopped because another won (drawn cut off). */
  cut: boolean;
  open: boolean;
  /** Worker lane (0-based): attempts that overlapped in time never share one. */
  lane: number;
  usage?: Usage | undefined;
  log?: string | undefined;
  tail: string[];
  tests: Array<Segment & { command: string; passed?: boolean | undefined; tail: string[]; log?: string | undefined }>;
}

export interface TimelineRow {
  step: string;
  state: StepState;
  reason?: string | undefined;
  detail?: string | undefined;
  /** On the run's critical path (the longest chain of measured durations through the graph). */
  critical: boolean;
  attempts: AttemptBar[];
  /** Every stretch of the row in time order, waits and attempts alike. */
  segments: Segment[];
  /** Its tool time: the attempts' durations summed. */
  busyMs: number;
  /** The step's recorded duration (step-end), or its busy time so far. */
  durationMs: number;
  commit?: string | undefined;
  usage?: Usage | undefined;
  /** The run did not select it: kept from an earlier run (resume) or left out (--only/--from). */
  carried: boolean;
}

export interface Timeline {
  runId: string;
  wsId: string;
  /** Epoch ms of run-start: every other time is relative to it. */
  startedAt: number;
  status: "running" | "passed" | "failed" | "cancelled" | "held" | "rolled_back";
  exitCode?: number | undefined;
  /** run-start to run-end (or to `now` for a running run). */
  makespanMs: number;
  /** The steps' durations summed: what one at a time would take. */
  stepTimeMs: number;
  /** stepTimeMs / makespanMs. */
  speedup: number;
  criticalPath: { steps: string[]; ms: number };
  workers: number;
  /** Lanes the attempts used (≤ workers, more only when max_workers "auto" or a resume changed it). */
  lanes: number;
  baseCommit?: string | undefined;
  branch?: string | undefined;
  resume: boolean;
  rows: TimelineRow[];
  /** Axis ticks, ms: round steps (1, 2, 5 × 10ⁿ) covering the makespan. */
  ticks: number[];
  /** The rollback's span, when there was one. */
  rollback?: { start: number; end: number; passed?: boolean | undefined } | undefined;
}

export interface TimelineInput {
  /** A run's events from its run-start on (see `lastRunEvents`). */
  events: readonly RunEvent[];
  /** Each step's dependencies (groups expanded), for the critical path; absent: none is marked. */
  deps?: Readonly<Record<string, readonly string[]>> | undefined;
  /** For a run still going: its open bars end here (epoch ms). */
  now?: number | undefined;
}

/** The events of the last run in a log that may hold several (each `ws run` appends its own). */
export function lastRunEvents(events: readonly RunEvent[]): RunEvent[] {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.type === "run-start") return events.slice(i);
  return [];
}

const WAIT_LABEL: Record<Exclude<SegmentKind, "attempt" | "test" | "commit" | "compensate">, string> = {
  "wait-worker": "waiting for a worker",
  "wait-rate": "held by rate_limit_delay",
  "wait-order": "held by its group's order or a file conflict",
  "wait-approval": "waiting for approval",
  "wait-quota": "parked: quota",
  "wait-breaker": "circuit breaker open",
  "wait-lane": "preparing its worktree",
  "wait-retry": "waiting to retry (retry_delay)",
};

export function waitLabel(kind: SegmentKind): string {
  return (WAIT_LABEL as Partial<Record<SegmentKind, string>>)[kind] ?? kind;
}

interface Building {
  row: TimelineRow;
  /** The segment still open on this row: a wait, an attempt's tool time, a commit. */
  open?: Segment | undefined;
  bar?: AttemptBar | undefined;
  approvalPending: boolean;
  lastFree: boolean;
}

export function buildTimeline(input: TimelineInput): Timeline {
  const events = input.events;
  const first = events[0];
  if (!first || first.type !== "run-start") throw new Error("buildTimeline: the events must start with a run-start");
  const t0 = Date.parse(first.at);
  const rel = (at: string) => Math.max(0, Date.parse(at) - t0);
  const selected = new Set(first.selected);
  const rows = new Map<string, Building>();
  for (const id of first.steps) {
    rows.set(id, {
      row: { step: id, state: "pending", critical: false, attempts: [], segments: [], busyMs: 0, durationMs: 0, carried: !selected.has(id) },
      approvalPending: false,
      lastFree: false,
    });
  }
  const timeline: Timeline = {
    runId: first.runId,
    wsId: first.wsId,
    startedAt: t0,
    status: "running",
    makespanMs: 0,
    stepTimeMs: 0,
    speedup: 1,
    criticalPath: { steps: [], ms: 0 },
    workers: first.maxWorkers,
    lanes: 0,
    baseCommit: first.runBase ?? first.base?.commit,
    branch: first.branch,
    resume: first.resume,
    rows: [],
    ticks: [],
  };
  let last = 0;
  for (const event of events) {
    const at = rel(event.at);
    last = Math.max(last, at);
    const b = "step" in event && event.step !== undefined ? rows.get(event.step) : undefined;
    applyEvent(timeline, event, at, b);
  }

  const ended = timeline.status !== "running";
  const end = ended ? Math.max(timeline.makespanMs, last) : Math.max(last, input.now !== undefined ? input.now - t0 : last);
  if (!ended) timeline.makespanMs = end;
  for (const b of rows.values()) timeline.rows.push(finishRow(b, end, ended));
  timeline.lanes = assignLanes(timeline.rows);
  timeline.stepTimeMs = timeline.rows.reduce((sum, r) => sum + (r.carried ? 0 : r.durationMs), 0);
  timeline.speedup = timeline.makespanMs > 0 ? timeline.stepTimeMs / timeline.makespanMs : 1;
  if (input.deps) timeline.criticalPath = longestChain(timeline.rows, input.deps);
  const critical = new Set(timeline.criticalPath.steps);
  for (const row of timeline.rows) row.critical = critical.has(row.step);
  timeline.ticks = axisTicks(timeline.makespanMs);
  return timeline;
}

/** A row once the events end: what is still open ends there (a running run's bars stay open). */
function finishRow(b: Building, end: number, ended: boolean): TimelineRow {
  if (b.open) {
    b.open.end = end;
    if (!ended) b.open.open = true;
    b.open = undefined;
  }
  for (const bar of b.row.attempts) {
    if (bar.open) {
      bar.end = end;
      b.row.busyMs += bar.end - bar.start;
      bar.open = !ended;
      if (ended) bar.reason = "cancelled";
    }
  }
  if (b.row.durationMs === 0) b.row.durationMs = b.row.busyMs;
  return b.row;
}

function closeOpen(b: Building, at: number): void {
  if (b.open) {
    b.open.end = Math.max(b.open.start, at);
    b.open = undefined;
  }
}

function beginSegment(b: Building, segment: Segment): void {
  b.row.segments.push(segment);
  b.open = segment;
}

function applyEvent(timeline: Timeline, event: RunEvent, at: number, b: Building | undefined): void {
  switch (event.type) {
    case "run-start":
      return;
    case "step-wait": {
      if (!b) return;
      closeOpen(b, at);
      const kind = waitKind(event.wait, b);
      beginSegment(b, { kind, start: at, end: at, attempt: b.row.attempts.length + 1, label: waitLabel(kind) });
      b.row.state = "pending";
      return;
    }
    case "step-start":
    case "test-start":
    case "test-end":
    case "attempt-end":
      if (b) applyAttemptEvent(event, at, b);
      return;
    case "step-end": {
      if (!b) return;
      closeOpen(b, at);
      b.row.state = event.state;
      b.row.reason = formatReason(event.reason);
      b.row.detail = event.detail;
      b.row.durationMs = event.durationMs;
      b.row.commit = event.commit;
      b.row.carried = false;
      // The engine ends a race loser's attempt as "cancelled" (its process was stopped); only
      // the step's end says why, so the cut is read here too.
      if (event.reason.kind === "lost_race") {
        const loser = b.row.attempts.at(-1);
        if (loser && !loser.passed) {
          loser.cut = true;
          loser.reason = "lost_race";
        }
      }
      b.bar = undefined;
      return;
    }
    case "approval-wait":
      if (b) b.approvalPending = true;
      return;
    case "approval-end":
      if (!b) return;
      b.approvalPending = false;
      if (b.open?.kind === "wait-approval") closeOpen(b, at);
      return;
    case "compensate-start":
      if (!b) return;
      closeOpen(b, at);
      beginSegment(b, { kind: "compensate", start: at, end: at, label: `compensate (${event.tool})` });
      return;
    case "compensate-end":
      if (!b) return;
      if (b.open?.kind === "compensate") {
        b.open.passed = event.passed;
        b.open.label += event.passed ? ": passed" : `: ${formatReason(event.reason)}`;
      }
      closeOpen(b, at);
      return;
    case "rollback-start":
      timeline.rollback = { start: at, end: at };
      return;
    case "rollback-end":
      if (timeline.rollback) {
        timeline.rollback.end = at;
        timeline.rollback.passed = event.passed;
      }
      return;
    case "run-end":
      timeline.status = event.outcome;
      timeline.exitCode = event.exitCode;
      timeline.makespanMs = event.durationMs;
      return;
    case "breaker":
    case "warning":
    case "progress":
    case "activity":
      return;
    default:
      unreachable(event);
  }
}

/** An attempt's own events: its bar, its tests, and the commit of a passed one. */
function applyAttemptEvent(event: EventOf<"step-start" | "test-start" | "test-end" | "attempt-end">, at: number, b: Building): void {
  switch (event.type) {
    case "step-start": {
      closeOpen(b, at);
      const bar: AttemptBar = { attempt: event.attempt, start: at, end: at, tool: event.tool, passed: false, reason: "running", cut: false, open: true, lane: 0, tail: [], tests: [] };
      b.row.attempts.push(bar);
      b.bar = bar;
      b.row.state = "running";
      beginSegment(b, { kind: "attempt", start: at, end: at, attempt: event.attempt, label: `attempt ${event.attempt} (${event.tool})` });
      return;
    }
    case "test-start": {
      closeOpen(b, at);
      const test = { kind: "test" as const, start: at, end: at, attempt: event.attempt, test: event.index, label: event.command, command: event.command, tail: [] };
      b.bar?.tests.push(test);
      beginSegment(b, test);
      return;
    }
    case "test-end": {
      const test = b.bar?.tests.find((t) => t.test === event.index && t.attempt === event.attempt);
      if (test) {
        test.passed = event.passed;
        test.tail = event.tail;
        test.log = event.log;
        if (b.open === test) closeOpen(b, at);
        else test.end = Math.max(test.start, at);
      }
      return;
    }
    case "attempt-end": {
      closeOpen(b, at);
      const bar = b.bar;
      if (bar && bar.attempt === event.attempt) {
        bar.end = at;
        bar.open = false;
        bar.passed = event.passed;
        bar.reason = formatReason(event.reason);
        bar.cut = event.reason.kind === "lost_race";
        bar.detail = event.detail;
        bar.usage = event.usage;
        bar.log = event.log;
        bar.tail = event.tail;
        b.row.busyMs += event.durationMs;
        b.row.usage = addUsage(b.row.usage, event.usage);
      }
      b.lastFree = event.free === true;
      if (event.passed) beginSegment(b, { kind: "commit", start: at, end: at, attempt: event.attempt, label: "commit and join onto the run's branch" });
      return;
    }
  }
}

function waitKind(wait: EventOf<"step-wait">["wait"], b: Building): SegmentKind {
  switch (wait) {
    case "worker":
      return "wait-worker";
    case "rate_limit":
      return "wait-rate";
    case "conflict":
    case "group":
      return "wait-order";
    case "lane":
      return "wait-lane";
    case "retry":
      return "wait-retry";
    case "gate":
      return b.approvalPending ? "wait-approval" : b.lastFree ? "wait-quota" : "wait-breaker";
    default:
      return unreachable(wait);
  }
}

/**
 * Each attempt a worker lane, first free lane first, in start order: what the trace's thread ids
 * and the lane count show. The span of an attempt includes the worktree wait before it and the
 * commit after, since the worker is held for those too.
 */
function assignLanes(rows: TimelineRow[]): number {
  const spans: Array<{ bar: AttemptBar; start: number; end: number }> = [];
  for (const row of rows) {
    for (const bar of row.attempts) {
      const before = row.segments.find((s) => s.kind === "wait-lane" && s.end === bar.start);
      const after = row.segments.find((s) => s.kind === "commit" && s.attempt === bar.attempt);
      spans.push({ bar, start: before?.start ?? bar.start, end: after?.end ?? bar.end });
    }
  }
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  const freeAt: number[] = [];
  for (const span of spans) {
    let lane = freeAt.findIndex((t) => t <= span.start);
    if (lane < 0) lane = freeAt.push(0) - 1;
    freeAt[lane] = span.end;
    span.bar.lane = lane;
  }
  return freeAt.length;
}

/** The heaviest chain of measured step durations through the dependency graph (steps this run ran). */
function longestChain(rows: readonly TimelineRow[], deps: Readonly<Record<string, readonly string[]>>): { steps: string[]; ms: number } {
  const byId = new Map(rows.map((r) => [r.step, r]));
  const best = new Map<string, { ms: number; prev?: string | undefined }>();
  const visiting = new Set<string>();
  const weight = (r: TimelineRow) => (r.carried || r.attempts.length === 0 ? 0 : r.durationMs);
  const solve = (id: string): { ms: number; prev?: string | undefined } => {
    const known = best.get(id);
    if (known) return known;
    const row = byId.get(id);
    if (!row || visiting.has(id)) return { ms: 0 };
    visiting.add(id);
    let top: { ms: number; prev?: string | undefined } = { ms: 0 };
    for (const dep of deps[id] ?? []) {
      const found = solve(dep);
      if (found.ms > top.ms) top = { ms: found.ms, prev: dep };
    }
    visiting.delete(id);
    const result = { ms: top.ms + weight(row), prev: top.prev };
    best.set(id, result);
    return result;
  };
  let end: string | undefined;
  let endMs = 0;
  for (const row of rows) {
    const { ms } = solve(row.step);
    if (ms > endMs) {
      endMs = ms;
      end = row.step;
    }
  }
  const steps: string[] = [];
  for (let id = end; id !== undefined; id = best.get(id)?.prev) {
    if (weight(byId.get(id)!) > 0) steps.unshift(id);
  }
  return { steps, ms: endMs };
}

/** Round ticks from 0 covering `span` ms: 1, 2 or 5 × 10ⁿ apart, about `count` of them. */
export function axisTicks(span: number, count = 8): number[] {
  if (span <= 0) return [0];
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t <= span + step * 1e-9; t += step) ticks.push(Math.round(t));
  return ticks;
}

/** Each step's direct dependencies by id (groups expanded), from the workstream's graph. */
export function stepDeps(graph: { ids: readonly string[]; deps: readonly (readonly number[])[] }): Record<string, string[]> {
  const deps: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  graph.ids.forEach((id, i) => (deps[id] = (graph.deps[i] ?? []).map((d) => graph.ids[d]!)));
  return deps;
}
