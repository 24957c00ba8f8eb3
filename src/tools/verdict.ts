import type { Usage } from "../events/run-event.js";
import { looksLikeQuota } from "./quota.js";
import type { ProcessExit, ToolVerdict } from "./types.js";

/** Long lines (a JSON event carrying a whole file) are only scanned this far for error words. */
const SCAN_CHARS = 4000;
/** How much of a tool's error text goes into a verdict's message. */
const MESSAGE_CHARS = 500;

export function exitedZero(exit: ProcessExit): boolean {
  return exit.outcome === "exited" && exit.exitCode === 0;
}

/** One line for humans: why the process ended. */
export function describeExit(exit: ProcessExit): string {
  switch (exit.outcome) {
    case "timeout":
      return "timed out";
    case "cancelled":
      return "cancelled";
    case "spawn_error":
      return "could not be started";
    case "exited":
      return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode ?? "?"}`;
  }
}

export function clip(text: string, max = MESSAGE_CHARS): string {
  const flat = text.trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * The error-channel text of one attempt (stderr, error events, result messages; never the
 * agent's own prose or code, where "rate limit" may just be the task). Remembers the first line
 * that reports a quota and the last few lines, both bounded.
 */
export class ErrorEvidence {
  private quotaLine: string | undefined;
  private readonly recent: string[] = [];

  constructor(private readonly keep = 20) {}

  add(text: string): void {
    const scanned = text.length > SCAN_CHARS ? text.slice(0, SCAN_CHARS) : text;
    if (!scanned.trim()) return;
    if (this.quotaLine === undefined && looksLikeQuota(scanned)) this.quotaLine = scanned;
    this.recent.push(scanned);
    if (this.recent.length > this.keep) this.recent.shift();
  }

  get quota(): string | undefined {
    return this.quotaLine;
  }

  /** The last line of evidence, for a message. */
  get last(): string | undefined {
    return this.recent.at(-1);
  }

  /**
   * A failed attempt's verdict: `quota` when the evidence reports one (the step is retried for
   * free), else `error` with `message`.
   */
  fail(message: string, usage?: Usage): ToolVerdict {
    const verdict: ToolVerdict = this.quotaLine !== undefined
      ? { kind: "quota", message: clip(`${message}: ${this.quotaLine}`) }
      : { kind: "error", message: clip(message) };
    if (usage) verdict.usage = usage;
    return verdict;
  }
}

export function ok(usage?: Usage): ToolVerdict {
  return usage ? { kind: "ok", usage } : { kind: "ok" };
}
