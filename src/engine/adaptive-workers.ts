import os from "node:os";
import type { Clock } from "./clock.js";

/**
 * `max_workers: "auto"`: as many workers as CPUs, fewer while the machine is busier than its
 * cores (a shared CI runner, a laptop doing a build beside the run). The scheduler reads the
 * limit each time it admits a step; running steps are never stopped, the pool just shrinks as
 * they end. The load source and the clock are injected so tests give a virtual load.
 */
export interface AdaptiveOptions {
  /** The limit with an idle machine (the CPUs, or --max-workers' cap). */
  max: number;
  cores: number;
  /** The 1-minute load average. */
  loadAverage: () => number;
  clock: Clock;
  /** The load average moves slowly: sampling it more often only makes the limit twitch. */
  sampleMs?: number;
  /** Said once when the limit goes down and once when it comes back (orchestrator log, terminal). */
  onChange: (message: string, limit: number) => void;
}

export const SAMPLE_MS = 5000;

/** The limit for a load: each unit of load over the cores takes one worker away, never the last one. */
export function limitFor(max: number, cores: number, load: number): number {
  if (!(load > cores)) return max;
  return Math.max(1, Math.min(max, cores) - Math.ceil(load - cores));
}

export function adaptiveWorkers(options: AdaptiveOptions): () => number {
  const sampleMs = options.sampleMs ?? SAMPLE_MS;
  let limit = options.max;
  let sampledAt = -Infinity;
  return () => {
    const now = options.clock.now();
    if (now - sampledAt < sampleMs) return limit;
    sampledAt = now;
    const load = options.loadAverage();
    const next = limitFor(options.max, options.cores, load);
    if (next !== limit) {
      const shown = load.toFixed(2);
      const message =
        next < limit
          ? `load average ${shown} is over the ${options.cores} cores: max_workers "auto" backs off to ${next} worker${next === 1 ? "" : "s"} (of ${options.max})`
          : `load average ${shown} for ${options.cores} cores: max_workers "auto" back up to ${next} worker${next === 1 ? "" : "s"} (of ${options.max})`;
      limit = next;
      options.onChange(message, next);
    }
    return limit;
  };
}

/** The machine's own numbers: os.loadavg() is [0, 0, 0] on Windows, which never backs off. */
export const systemLoad = { cores: () => os.availableParallelism(), loadAverage: () => os.loadavg()[0] ?? 0 };
