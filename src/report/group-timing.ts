import type { RunState } from "../store/run-state.js";

/** When a step group (or a wave) of a run started and ended: its first member's start, its last member's end. */
export interface SpanTiming {
  id: string;
  steps: string[];
  /** ISO; undefined until a member started. */
  startedAt?: string | undefined;
  /** ISO; undefined until every member that started has ended and none is still to start. */
  endedAt?: string | undefined;
  durationMs?: number | undefined;
}

/**
 * Each step group's and each wave's timing, from the step records alone (a pure function of the
 * events, as the state is): the seeds report every phase ("Phase 2 completed in 1.2s"), and a
 * sequential group's time is the sum its members' rows only hint at. Members a run did not select
 * count only if they ran in it; one that never started (skipped, blocked) neither starts nor holds
 * the span open.
 */
export function spanTimings(state: RunState, spans: ReadonlyArray<{ id: string; steps: readonly string[] }>): SpanTiming[] {
  return spans.map((span) => {
    let start: number | undefined;
    let end: number | undefined;
    let open = false;
    for (const id of span.steps) {
      const r = state.steps[id];
      if (!r) continue;
      if (r.state === "running" || (r.state === "pending" && r.selected)) open = true;
      if (r.startedAt === undefined || r.attempts === 0) continue;
      const s = Date.parse(r.startedAt);
      start = start === undefined ? s : Math.min(start, s);
      if (r.endedAt !== undefined) {
        const e = Date.parse(r.endedAt);
        end = end === undefined ? e : Math.max(end, e);
      }
    }
    const ended = !open && start !== undefined && end !== undefined;
    return {
      id: span.id,
      steps: [...span.steps],
      startedAt: start === undefined ? undefined : new Date(start).toISOString(),
      endedAt: ended ? new Date(end!).toISOString() : undefined,
      durationMs: ended ? end! - start! : undefined,
    };
  });
}

/** The run's groups and waves (run-start gives them), timed. */
export function runSpans(state: RunState): { groups: SpanTiming[]; waves: SpanTiming[] } {
  return {
    groups: spanTimings(state, state.groups ?? []),
    waves: spanTimings(state, (state.waves ?? []).map((steps, k) => ({ id: `wave ${k + 1}`, steps }))),
  };
}

/** Past this many, a list of spans in the status table ends with a count (--json has them all). */
const SPAN_LINES = 20;

/** `ws status`'s lines: "  workers: 1.3s (12:00:01.123 → 12:00:02.456), 3 steps"; none without spans. */
export function spanLines(title: string, spans: readonly SpanTiming[], formatDuration: (ms: number) => string): string[] {
  if (spans.length === 0) return [];
  const clock = (iso: string) => iso.slice(11, 23);
  const lines = spans.slice(0, SPAN_LINES).map((s) => {
    const size = `${s.steps.length} step${s.steps.length === 1 ? "" : "s"}`;
    if (s.startedAt === undefined) return `  ${s.id}: not started, ${size}`;
    if (s.endedAt === undefined) return `  ${s.id}: running since ${clock(s.startedAt)}, ${size}`;
    return `  ${s.id}: ${formatDuration(s.durationMs ?? 0)} (${clock(s.startedAt)} → ${clock(s.endedAt)}), ${size}`;
  });
  if (spans.length > SPAN_LINES) lines.push(`  … ${spans.length - SPAN_LINES} more (ws status --json lists them all)`);
  return [`${title}:`, ...lines];
}

/** Waves worth a line of their own: when one holds several steps (a wave of one step is that step's row). */
export function listedWaves(waves: readonly SpanTiming[]): readonly SpanTiming[] {
  return waves.some((w) => w.steps.length > 1) ? waves : [];
}
