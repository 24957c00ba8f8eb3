import type { ActivityKind, EventOf } from "../events/run-event.js";
import { oneLine } from "./live-steps.js";

/**
 * Which activities a pipe or CI log prints: an agent may report hundreds a minute, and the log
 * must stay readable. A line is printed for news (a file the step had not touched yet, a command
 * it runs, a tool's new last output line), at most one per step per EVERY_MS; news that comes
 * sooner waits (the latest of it, a file edit kept over a read) and is printed once the step's
 * window opens, with the count of what it stood for. Messages and other tool calls are not news
 * (the step's log has them). Time comes from the caller, so the bound is tested without waiting.
 */

export const EVERY_MS = 10_000;

type Activity = EventOf<"activity">;

interface StepLog {
  /** When its last line was printed (-Infinity before the first). */
  printedAt: number;
  /** Files already shown or counted (edit and read texts). */
  files: Set<string>;
  lastText: string | undefined;
  pending: Activity | undefined;
  /** News activities since the last line, the pending one included. */
  skipped: number;
}

const NEWS: Record<ActivityKind, boolean> = { edit: true, read: true, command: true, output: true, tool: false, message: false };

/** Edits say more than commands, commands more than reads and output lines: what a waiting slot keeps. */
const RANK: Record<ActivityKind, number> = { edit: 3, command: 2, read: 1, output: 0, tool: 0, message: 0 };

export class ActivityThrottle {
  private readonly steps = new Map<string, StepLog>();

  constructor(private readonly everyMs = EVERY_MS) {}

  /** The activity to print now, with how many news activities it stands for; undefined: not now (or not news). */
  offer(event: Activity, now: number): { event: Activity; count: number } | undefined {
    const log = this.logOf(event.step);
    if (!NEWS[event.kind]) return undefined;
    const file = event.kind === "edit" || event.kind === "read";
    const key = `${event.kind} ${event.text}`;
    if (file ? log.files.has(key) : event.text === log.lastText) return undefined;
    if (file) log.files.add(key);
    log.skipped += 1;
    if (!log.pending || RANK[event.kind] >= RANK[log.pending.kind]) log.pending = event;
    return this.release(log, now);
  }

  /** The waiting activities whose step's window has opened (call it on a timer). */
  due(now: number): Array<{ event: Activity; count: number }> {
    const out: Array<{ event: Activity; count: number }> = [];
    for (const log of this.steps.values()) {
      const line = this.release(log, now);
      if (line) out.push(line);
    }
    return out;
  }

  /** The step ended (or starts another attempt afresh): what waits is dropped, its lines say the rest. */
  end(step: string): void {
    this.steps.delete(step);
  }

  private release(log: StepLog, now: number): { event: Activity; count: number } | undefined {
    if (!log.pending || now - log.printedAt < this.everyMs) return undefined;
    const line = { event: log.pending, count: log.skipped };
    log.printedAt = now;
    log.lastText = log.pending.text;
    log.pending = undefined;
    log.skipped = 0;
    return line;
  }

  private logOf(step: string): StepLog {
    let log = this.steps.get(step);
    if (!log) {
      log = { printedAt: -Infinity, files: new Set(), lastText: undefined, pending: undefined, skipped: 0 };
      this.steps.set(step, log);
    }
    return log;
  }
}

/**
 * "activity build: Edit src/x.ts (and 4 more)": the plain log's line for what the throttle let
 * through, the tool's words on one line without its escape codes (as the live view shows them).
 */
export function throttledLine(line: { event: Activity; count: number }): string {
  const more = line.count > 1 ? ` (and ${line.count - 1} more)` : "";
  return `activity ${line.event.step}: ${oneLine(line.event.text)}${more}`;
}
