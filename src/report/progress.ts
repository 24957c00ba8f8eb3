/**
 * How far a run is: steps ended out of those selected, the share of the expected work they
 * stand for (each step weighed by its `weight`, else its history median: a 10-minute step weighs
 * more than ten 5-second ones), with a running step counted by what it wrote to $WS_PROGRESS,
 * and an ETA that starts from the plan's estimate and leans on the run's own pace as work gets
 * done. A first run (no history) gets its ETA from its pace alone.
 */
import { stepRecords, type RunState } from "../store/run-state.js";

export interface Progress {
  done: number;
  total: number;
  /** 0..1 of the expected work; undefined when only the count of ended steps is known. */
  fraction: number | undefined;
  etaMs: number | undefined;
}

export interface ProgressInput {
  selected: readonly string[];
  ended: (step: string) => boolean;
  /** Expected duration per selected step (ms), from past runs. */
  expectedMs?: Readonly<Record<string, number>> | undefined;
  /** Explicit shares (step.weight); over expectedMs when given. */
  weights?: Readonly<Record<string, number>> | undefined;
  /** A running step's own progress (0..1), from $WS_PROGRESS. */
  partial?: ((step: string) => number | undefined) | undefined;
  /** The plan's estimate of the whole run (ms). */
  estimateMs?: number | undefined;
  elapsedMs: number;
  /** Of elapsedMs, the time before the first step started (its worktree made): no part of the run's pace. */
  beforeWorkMs?: number | undefined;
  /**
   * For the pace only: how far a running step that reports nothing is likely to be (0..1), from
   * how long it has run against the steps that ended. Without it, two steps running side by side
   * counted as nothing until each ended, and the ETA at the first end was the remaining count
   * times the whole elapsed time: 2x long on a first run of pairs.
   */
  inFlight?: ((step: string) => number | undefined) | undefined;
}

export function progressOf(input: ProgressInput): Progress {
  const total = input.selected.length;
  const done = input.selected.filter(input.ended).length;
  const { weights, expectedMs } = input;
  const weight = weightOf(input);
  const share = (id: string) => (input.ended(id) ? 1 : (input.partial?.(id) ?? 0));
  const reported = input.partial !== undefined && input.selected.some((id) => !input.ended(id) && (input.partial?.(id) ?? 0) > 0);
  let fraction: number | undefined;
  if (weights || expectedMs || reported) {
    const all = input.selected.reduce((sum, id) => sum + weight(id), 0);
    fraction = all > 0 ? input.selected.reduce((sum, id) => sum + weight(id) * share(id), 0) / all : undefined;
  }
  if (done === total) return { done, total, fraction: fraction === undefined ? undefined : 1, etaMs: 0 };
  const f = fraction ?? (total > 0 ? done / total : 0);
  const byPlan = input.estimateMs === undefined ? undefined : input.estimateMs - input.elapsedMs;
  // The pace of the work itself: the first worktree (up to a second on a loaded machine) is made
  // once, and counted into the pace it made a first run's ETA at its first step end 2-3x long.
  const working = Math.max(0, input.elapsedMs - (input.beforeWorkMs ?? 0));
  const fPace = input.inFlight === undefined ? f : paceShare(input, weight, fraction === undefined);
  const byPace = fPace > 0 ? (working * (1 - fPace)) / fPace : undefined;
  // Early the plan knows best; the further the run, the more its own pace tells. No plan (a
  // first run): the pace alone, once some work is done.
  let eta = byPlan === undefined ? byPace : byPace === undefined ? byPlan : (1 - f) * byPlan + f * byPace;
  // Past the estimate with nothing to go on: no honest ETA to give.
  if (eta !== undefined && eta <= 0) eta = undefined;
  return { done, total, fraction, etaMs: eta === undefined ? undefined : Math.round(eta) };
}

/** "3/10 done (45% of the expected work) · ETA 2m10s" pieces, as the live view, the progress line and ws status show them. */
export function progressText(p: Progress, formatDuration: (ms: number) => string): { done: string; eta: string } {
  const share = p.fraction !== undefined && p.done < p.total ? ` (${Math.floor(p.fraction * 100)}% of the expected work)` : "";
  return { done: `${p.done}/${p.total} done${share}`, eta: p.etaMs !== undefined ? `ETA ${formatDuration(p.etaMs)}` : "" };
}

/**
 * The progress of a run from its state (the fold of its events): the live view and `ws status`
 * both ask this, so at the same moment they say the same (they said 50% and 25%: status counted
 * neither `weight` nor $WS_PROGRESS).
 */
export function progressInput(state: RunState, nowMs: number): ProgressInput {
  const selected: string[] = [];
  let firstStart = Infinity;
  for (const record of stepRecords(state)) {
    if (!record.selected) continue;
    selected.push(record.id);
    if (record.startedAt !== undefined) firstStart = Math.min(firstStart, Date.parse(record.startedAt));
  }
  const startedAt = Date.parse(state.startedAt);
  let endedMs = 0;
  let endedCount = 0;
  for (const record of stepRecords(state)) {
    if (!record.selected || record.durationMs === undefined || record.state === "running" || record.state === "pending" || record.attempts === 0) continue;
    endedMs += record.durationMs;
    endedCount++;
  }
  const typicalMs = endedCount > 0 ? endedMs / endedCount : undefined;
  return {
    selected,
    ended: (id) => {
      const s = state.steps[id]?.state ?? "pending";
      return s !== "pending" && s !== "running";
    },
    expectedMs: state.expectedMs,
    weights: state.weights,
    partial: (id) => state.steps[id]?.progress,
    // The estimate counts the set-up before run-start (as the run's duration does); elapsed starts after it.
    estimateMs: state.estimateMs === undefined ? undefined : state.estimateMs - (state.setupMs ?? 0),
    elapsedMs: nowMs - startedAt,
    beforeWorkMs: firstStart === Infinity ? undefined : Math.max(0, firstStart - startedAt),
    inFlight: (id) => {
      const record = state.steps[id];
      if (typicalMs === undefined || typicalMs <= 0 || record?.state !== "running" || record.startedAt === undefined) return undefined;
      // Never whole: a step that has run as long as a typical one has still not ended.
      return Math.min(0.9, Math.max(0, nowMs - Date.parse(record.startedAt)) / typicalMs);
    },
  };
}

export function stateProgress(state: RunState, nowMs: number): Progress {
  return progressOf(progressInput(state, nowMs));
}

/** Each selected step's share of the whole run (weights summing to 1) and how far it is (0..1), for `ws status --json`. */
export function stepShares(input: ProgressInput): Map<string, { weight: number; progress: number }> {
  const weight = weightOf(input);
  const all = input.selected.reduce((sum, id) => sum + weight(id), 0);
  const shares = new Map<string, { weight: number; progress: number }>();
  for (const id of input.selected) {
    shares.set(id, { weight: all > 0 ? weight(id) / all : 1 / input.selected.length, progress: input.ended(id) ? 1 : (input.partial?.(id) ?? 0) });
  }
  return shares;
}

/** The share of the work done for the pace: what `fraction` counts, plus the running steps' likely share (inFlight). */
function paceShare(input: ProgressInput, weight: (id: string) => number, byCount: boolean): number {
  const w = byCount ? () => 1 : weight;
  let all = 0;
  let done = 0;
  for (const id of input.selected) {
    all += w(id);
    done += w(id) * (input.ended(id) ? 1 : (input.partial?.(id) ?? input.inFlight?.(id) ?? 0));
  }
  return all > 0 ? done / all : 0;
}

function weightOf(input: ProgressInput): (id: string) => number {
  const { weights, expectedMs } = input;
  return weights ? (id) => weights[id] ?? 1 : expectedMs ? (id) => expectedMs[id] ?? 0 : () => 1;
}
