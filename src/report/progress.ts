/**
 * How far a run is: steps ended out of those selected, the share of the expected work they
 * stand for (history medians: a 10-minute step weighs more than ten 5-second ones), and an ETA
 * that starts from the plan's estimate and leans on the run's own pace as steps end.
 */
export interface Progress {
  done: number;
  total: number;
  /** 0..1 of the expected work; undefined without history. */
  fraction: number | undefined;
  etaMs: number | undefined;
}

export interface ProgressInput {
  selected: readonly string[];
  ended: (step: string) => boolean;
  /** Expected duration per selected step (ms), from past runs. */
  expectedMs?: Readonly<Record<string, number>> | undefined;
  /** The plan's estimate of the whole run (ms). */
  estimateMs?: number | undefined;
  elapsedMs: number;
}

export function progressOf(input: ProgressInput): Progress {
  const total = input.selected.length;
  const done = input.selected.filter(input.ended).length;
  const expected = input.expectedMs;
  let fraction: number | undefined;
  if (expected) {
    const weight = (id: string) => expected[id] ?? 0;
    const all = input.selected.reduce((sum, id) => sum + weight(id), 0);
    fraction = all > 0 ? input.selected.filter(input.ended).reduce((sum, id) => sum + weight(id), 0) / all : undefined;
  }
  if (done === total) return { done, total, fraction: fraction === undefined ? undefined : 1, etaMs: 0 };
  const f = fraction ?? (total > 0 ? done / total : 0);
  const byPlan = input.estimateMs === undefined ? undefined : input.estimateMs - input.elapsedMs;
  const byPace = f > 0 ? (input.elapsedMs * (1 - f)) / f : undefined;
  // Early the plan knows best; the further the run, the more its own pace tells.
  let eta = byPlan === undefined ? undefined : byPace === undefined ? byPlan : (1 - f) * byPlan + f * byPace;
  // Past the estimate with nothing to go on: no honest ETA to give.
  if (eta !== undefined && eta <= 0) eta = undefined;
  return { done, total, fraction, etaMs: eta === undefined ? undefined : Math.round(eta) };
}

/** "3/10 done (45%) · ETA 2m10s" pieces, as the live view, the progress line and ws status show them. */
export function progressText(p: Progress, formatDuration: (ms: number) => string): { done: string; eta: string } {
  const share = p.fraction !== undefined && p.done < p.total ? ` (${Math.floor(p.fraction * 100)}% of the expected work)` : "";
  return { done: `${p.done}/${p.total} done${share}`, eta: p.etaMs !== undefined ? `ETA ${formatDuration(p.etaMs)}` : "" };
}
