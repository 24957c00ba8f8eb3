/** Durations as every output of ws shows them: 850ms, 1.2s, 30s, 2m05s, 1h02m. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** "14:02" (or "14:02:48"): local time, as a user reads a clock; undefined for a time that is not one. */
export function clockTime(when: string | number, seconds = false): string | undefined {
  const at = new Date(when);
  if (Number.isNaN(at.getTime())) return undefined;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(at.getHours())}:${two(at.getMinutes())}${seconds ? `:${two(at.getSeconds())}` : ""}`;
}

/** A live time in whole seconds (`0s`, `42s`, `1m12s`): tenths changing every frame make a line flicker. */
export function wholeSeconds(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  return seconds === 0 ? "0s" : formatDuration(seconds * 1000);
}
