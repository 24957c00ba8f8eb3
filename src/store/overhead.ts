import type { RunEvent } from "../events/run-event.js";
import type { RunOverhead } from "./history.js";

/**
 * Measures ws's own cost in a run from its events (see RunOverhead), for the next estimate.
 *
 * Per step, the time a worker is held outside the step's own duration: from the event that let
 * it go (the run's start or a step's end: admission runs right after one) to its `lane` wait (the
 * hand-off), then to its start (its worktree prepared). Steps that waited for the rate limit or a
 * gate are left out: that wait is the plan's to model (the rate limit) or nobody's (a gate).
 * The mean, not the median: the estimate adds it to every step, and a chain pays the sum.
 */
export class OverheadMeter {
  private setupMs = 0;
  private lastBoundary: number | undefined;
  private lastEnd: number | undefined;
  private readonly lane = new Map<string, { at: number; gap: number | undefined }>();
  private readonly started = new Map<string, number>();
  private readonly held = new Set<string>();
  private readonly perStep: number[] = [];

  observe(event: RunEvent): void {
    const at = Date.parse(event.at);
    switch (event.type) {
      case "run-start":
        this.setupMs = event.setupMs ?? 0;
        this.lastBoundary = at;
        break;
      case "step-wait":
        if (event.wait === "rate_limit" || event.wait === "gate") this.held.add(event.step);
        else if (event.wait === "lane" && !this.lane.has(event.step)) {
          const gap = this.held.has(event.step) || this.lastBoundary === undefined ? undefined : at - this.lastBoundary;
          this.lane.set(event.step, { at, gap });
        }
        break;
      case "step-start":
        if (!this.started.has(event.step)) this.started.set(event.step, at);
        break;
      case "step-end": {
        this.lastBoundary = this.lastEnd = at;
        const lane = this.lane.get(event.step);
        const start = this.started.get(event.step);
        // One clean attempt: a retry's own lane and hand-off are inside its step's duration.
        if (event.state !== "passed" || event.attempts !== 1 || lane?.gap === undefined || start === undefined) break;
        this.perStep.push(Math.max(0, lane.gap + (start - lane.at) + (at - start - event.durationMs)));
        break;
      }
      default:
        break;
    }
  }

  /** At the run's end (`at`: its run-end); undefined when no step could be measured. */
  measure(at: string): RunOverhead | undefined {
    if (this.perStep.length === 0 || this.lastEnd === undefined) return undefined;
    const stepMs = this.perStep.reduce((a, b) => a + b, 0) / this.perStep.length;
    return { stepMs, runMs: this.setupMs + Math.max(0, Date.parse(at) - this.lastEnd) };
  }
}
