import type { Clock } from "../../src/engine/clock.js";

/**
 * A clock whose time moves only when the test says so: the scheduler's waits (rate limit,
 * breaker cooldowns) and the fake steps' durations become exact and instant.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private seq = 0;

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fire: () => resolve() };
      this.timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /**
   * Let promise chains settle, then fire the earliest timer; until `done` settles. With
   * `realWaitMs`, a moment without timers waits that long in real time (for real child processes).
   */
  async drive<T>(done: Promise<T>, realWaitMs = 0): Promise<T> {
    let settled = false;
    void done.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let guard = 0; guard < 1_000_000; guard++) {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      if (settled) return done;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next && realWaitMs > 0) {
        // Real processes are running: their exits arrive in real time.
        await new Promise((r) => setTimeout(r, realWaitMs));
        continue;
      }
      if (!next) throw new Error("deadlock: nothing to wait for, but the scheduler has not finished");
      this.t = next.at;
      next.fire();
    }
    throw new Error("virtual clock: too many steps");
  }
}
