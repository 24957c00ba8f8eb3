import type { Activity } from "../tools/activity.js";

/**
 * How many activity events one attempt may emit: a burst of BURST (an agent's first few tool
 * calls in a row all show), then one per REFILL_MS. What comes faster is coalesced: the latest
 * waits and goes out when the next slot opens, the ones it replaced are dropped (their lines are
 * in the attempt's log). A chatty agent (a tool call per 10 ms, a tool printing 10 000 lines a
 * second) thus costs events.jsonl, the terminal and the other listeners at most ~2 events a second.
 */
const BURST = 5;
const REFILL_MS = 500;

/**
 * A token bucket per attempt, on real time (activity arrives in real time, whatever the engine's
 * clock). `emit` is called at once when a slot is free, else from an unref'd timer, and `flush`
 * sends the one still waiting when the attempt ends, so its last activity is never lost.
 */
export class ActivityPace {
  private tokens = BURST;
  private refilledAt: number;
  private pending: Activity | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (activity: Activity) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.refilledAt = this.now();
  }

  offer(activity: Activity): void {
    this.refill();
    if (this.tokens >= 1 && this.pending === undefined) {
      this.tokens -= 1;
      this.emit(activity);
      return;
    }
    this.pending = activity;
    this.timer ??= setTimeout(() => this.release(), Math.max(0, REFILL_MS - (this.now() - this.refilledAt))).unref();
  }

  /** The attempt ended: what waits goes out now (before its attempt-end), and no timer outlives it. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.emit(pending);
  }

  private release(): void {
    this.timer = undefined;
    this.refill();
    const pending = this.pending;
    if (pending === undefined) return;
    if (this.tokens < 1) {
      this.timer = setTimeout(() => this.release(), REFILL_MS).unref();
      return;
    }
    this.tokens -= 1;
    this.pending = undefined;
    this.emit(pending);
  }

  private refill(): void {
    const now = this.now();
    const earned = Math.floor((now - this.refilledAt) / REFILL_MS);
    if (earned <= 0) return;
    this.tokens = Math.min(BURST, this.tokens + earned);
    this.refilledAt += earned * REFILL_MS;
  }
}
