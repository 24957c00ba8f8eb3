import { readTail } from "../store/file-part.js";
import path from "node:path";
import type { RunEvent } from "../events/run-event.js";

/**
 * Progress from inside a step: each attempt gets `WS_PROGRESS`, a file it may append lines to,
 * `42` / `42%` (percent) or `3/10`; the last line counts. The engine reads the files on a timer,
 * never in the step's output path, and emits a `progress` event only when a value changes.
 */

export function progressFileOf(stepDir: string, attempt: number): string {
  return path.join(stepDir, `attempt-${attempt}.progress`);
}

/** The last well-formed line as 0..1; a line that is neither form is ignored (the one before counts). */
export function parseProgress(text: string): number | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    const ratio = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(line);
    if (ratio) {
      const total = Number(ratio[2]);
      if (total > 0) return clamp(Number(ratio[1]) / total);
      continue;
    }
    const percent = /^(\d+(?:\.\d+)?)\s*%?$/.exec(line);
    if (percent) return clamp(Number(percent[1]) / 100);
  }
  return undefined;
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Only the file's end is read: a step that appends a line per item must not make each poll slower. */
const TAIL_BYTES = 512;

export function readProgress(file: string): number | undefined {
  const tail = readTail(file, TAIL_BYTES);
  if (tail === undefined) return undefined;
  // A cut first line would read as a smaller number.
  return parseProgress(tail.cut ? tail.text.slice(tail.text.indexOf("\n") + 1) : tail.text);
}

export const POLL_MS = 1000;

/**
 * Watches the progress files of the running attempts. `observe` sees every event of the run
 * (it learns which attempts run from them); `poll` reads their files and emits what changed.
 */
export class ProgressWatch {
  private readonly running = new Map<string, { attempt: number; file: string; last: number | undefined }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stepDir: (step: string) => string,
    private readonly emit: (event: RunEvent) => void,
    private readonly at: () => string,
  ) {}

  observe(event: RunEvent): void {
    if (event.type === "step-start") this.running.set(event.step, { attempt: event.attempt, file: progressFileOf(this.stepDir(event.step), event.attempt), last: undefined });
    else if (event.type === "attempt-end" || event.type === "step-end") this.running.delete(event.step);
  }

  poll(): void {
    for (const [step, watched] of this.running) {
      const fraction = readProgress(watched.file);
      if (fraction === undefined || fraction === watched.last) continue;
      watched.last = fraction;
      this.emit({ type: "progress", at: this.at(), step, attempt: watched.attempt, fraction });
    }
  }

  /** Polls on a real timer that keeps no process alive: the files change in real time, whatever the engine's clock. */
  start(intervalMs = POLL_MS): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
