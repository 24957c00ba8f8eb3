import { readTail } from "../store/file-part.js";
import type { RunEvent } from "../events/run-event.js";
import { oneLine } from "../tools/activity.js";

/**
 * A shell step's activity is its last output line. Its output is never decoded line by line
 * (bench/: a step printing 500 MB must stay cheap), so the line is read from the end of its
 * attempt log on a timer, like $WS_PROGRESS: a few hundred bytes per running shell step per
 * poll, nothing in the output path, and one event only when the line changed. A step shorter
 * than a poll shows none.
 */

/** Enough for a long line; a line cut at the front is skipped (the one before it counts). */
const TAIL_BYTES = 1024;
/** The log's line prefix (src/proc/step-log.ts): `12:01:02.345 out| `. */
const PREFIX = /^\d\d:\d\d:\d\d\.\d{3} (?:out|err)\| /;

/** The last complete, non-blank output line of an attempt log; undefined when none yet. */
export function lastLogLine(file: string): string | undefined {
  const tail = readTail(file, TAIL_BYTES);
  if (tail === undefined) return undefined;
  const lines = tail.text.split("\n");
  // The last piece has no newline yet (a line being written); the first may be cut.
  for (let i = lines.length - 2; i >= (tail.cut ? 1 : 0); i--) {
    const line = lines[i] ?? "";
    if (!PREFIX.test(line)) continue; // ws's own `#` notes, or a line continued from a cut one
    const text = oneLine(line.replace(PREFIX, ""));
    if (text !== "") return text;
  }
  return undefined;
}

export const TAIL_POLL_MS = 1000;

export class OutputTail {
  private readonly running = new Map<string, { attempt: number; file: string; last: string | undefined }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly attemptLog: (step: string, attempt: number) => string,
    private readonly emit: (event: RunEvent) => void,
    private readonly at: () => string,
  ) {}

  observe(event: RunEvent): void {
    if (event.type === "step-start" && event.tool === "shell") this.running.set(event.step, { attempt: event.attempt, file: this.attemptLog(event.step, event.attempt), last: undefined });
    else if (event.type === "attempt-end" || event.type === "step-end") this.running.delete(event.step);
  }

  poll(): void {
    for (const [step, watched] of this.running) {
      const text = lastLogLine(watched.file);
      if (text === undefined || text === watched.last) continue;
      watched.last = text;
      this.emit({ type: "activity", at: this.at(), step, attempt: watched.attempt, kind: "output", text });
    }
  }

  /** A real timer that keeps no process alive: the log grows in real time, whatever the engine's clock. */
  start(intervalMs = TAIL_POLL_MS): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
