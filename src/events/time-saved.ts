import { formatDuration } from "../format/duration.js";

/** What the end line, the summary and run-end say about parallelism (seed patterns: "Time Saved: 804ms", "66% time saved", parallel efficiency). */
export interface TimeSaved {
  /** Summed step times minus the run's wall time: against running the steps one at a time. */
  savedMs: number;
  /** savedMs over the summed step times (0..1). */
  savedFraction: number;
  /** Summed step times / (wall time × workers): how busy the workers were (1: always all busy). */
  efficiency: number;
  workers: number;
}

/**
 * From the run's own figures. Against the summed step times, not a measured one-at-a-time run
 * (that one would also pay ws's per-step time once per step): a chain saves nothing, and the
 * figure says 0 rather than a negative saving made of overhead.
 */
export function timeSaved(durationMs: number, sequentialMs: number, workers: number): TimeSaved | undefined {
  if (!(durationMs > 0) || !(sequentialMs > 0) || !(workers >= 1)) return undefined;
  const savedMs = Math.max(0, Math.round(sequentialMs - durationMs));
  return { savedMs, savedFraction: savedMs / sequentialMs, efficiency: Math.min(1, sequentialMs / (durationMs * workers)), workers };
}

/** "saved 3.2s, 64%; parallel efficiency 53% of 3 workers". */
export function timeSavedText(t: Pick<TimeSaved, "savedMs" | "savedFraction" | "efficiency" | "workers">): string {
  return `saved ${formatDuration(t.savedMs)}, ${Math.round(t.savedFraction * 100)}%; parallel efficiency ${Math.round(t.efficiency * 100)}% of ${t.workers} worker${t.workers === 1 ? "" : "s"}`;
}
