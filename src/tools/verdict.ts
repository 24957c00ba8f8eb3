import type { Usage } from "../events/run-event.js";
import { looksLikeAuth, looksLikeNetwork, looksLikeQuota, quotaResetAt } from "./quota.js";
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
    case "stopped":
      return "stopped by ws";
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
 * that reports a quota, an auth failure or an unreachable network, and the last few lines, all
 * bounded.
 */
export class ErrorEvidence {
  private quotaLine: string | undefined;
  private authLine: string | undefined;
  private networkLine: string | undefined;
  private readonly recent: string[] = [];
  /** The API host the tool talks to, put on a `network` verdict (see ToolVerdict). */
  host: string | undefined;

  /** `authFix`: what the user must do when credentials fail (log in, or set the key variable). */
  constructor(
    private readonly authFix = "check the tool's credentials",
    private readonly now: () => number = Date.now,
    private readonly keep = 20,
  ) {}

  add(text: string): void {
    const scanned = text.length > SCAN_CHARS ? text.slice(0, SCAN_CHARS) : text;
    if (!scanned.trim()) return;
    if (this.quotaLine === undefined && looksLikeQuota(scanned)) this.quotaLine = scanned;
    if (this.authLine === undefined && looksLikeAuth(scanned)) this.authLine = scanned;
    if (this.networkLine === undefined && looksLikeNetwork(scanned)) this.networkLine = scanned;
    this.recent.push(scanned);
    if (this.recent.length > this.keep) this.recent.shift();
  }

  /** An adapter that knows better (an exit code, a typed error field) marks the kind itself. */
  mark(kind: "quota" | "auth" | "network", line: string): void {
    if (kind === "quota") this.quotaLine ??= line;
    else if (kind === "auth") this.authLine ??= line;
    else this.networkLine ??= line;
    this.add(line);
  }

  get quota(): string | undefined {
    return this.quotaLine;
  }

  get auth(): string | undefined {
    return this.authLine;
  }

  get network(): string | undefined {
    return this.networkLine;
  }

  /** The last line of evidence, for a message. */
  get last(): string | undefined {
    return this.recent.at(-1);
  }

  /**
   * A failed attempt's verdict. Quota first (a 429 is retried for free after the reset), then
   * auth (no retry can help), then network; else `error` with `message`.
   */
  fail(message: string, usage?: Usage): ToolVerdict {
    let verdict: ToolVerdict;
    if (this.quotaLine !== undefined) {
      const text = this.recent.join("\n");
      verdict = { kind: "quota", message: clip(withCause(message, this.quotaLine)), resetAt: quotaResetAt(this.quotaLine, this.now()) ?? quotaResetAt(text, this.now()) };
    } else if (this.authLine !== undefined) {
      verdict = { kind: "auth", message: clip(withCause(message, this.authLine)), fix: this.authFix };
    } else if (this.networkLine !== undefined) {
      verdict = { kind: "network", message: clip(withCause(message, this.networkLine)), host: this.host };
    } else {
      verdict = { kind: "error", message: clip(message) };
    }
    if (usage) verdict.usage = usage;
    return verdict;
  }
}

/** The message, and the line that proves the kind unless the message already says it. */
function withCause(message: string, cause: string): string {
  return message.includes(cause.trim()) ? message : `${message}: ${cause.trim()}`;
}

export function ok(usage?: Usage): ToolVerdict {
  return usage ? { kind: "ok", usage } : { kind: "ok" };
}

/** `host[:port]` of a base URL setting; undefined when it is not a URL. */
export function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}
