/** Time as the engine sees it; tests inject a virtual clock so no test depends on real time. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` (or at once when the signal aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node fires a longer timer at once (with a TimeoutOverflowWarning): longer waits go in pieces. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let left = Math.max(0, ms);
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        const piece = Math.min(left, MAX_TIMER_MS);
        left -= piece;
        timer = setTimeout(left > 0 ? arm : done, piece);
      };
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
      arm();
    }),
};
