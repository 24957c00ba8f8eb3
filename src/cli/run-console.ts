import type { RunEvent } from "../events/run-event.js";
import { stripAnsi } from "../format/ansi.js";
import { formatDuration } from "../format/duration.js";

/**
 * The seeds' console lines, beside the reporter's own (which calls this from a few hooks, so the
 * live view can change without this and this without it):
 * - `starting 3 in parallel: a, b, c` when several steps start together;
 * - with `--stream`, each running step's output as it comes, `[step] line`, rate-bounded;
 * - `tests 2/2 passed` at the end of a step that has acceptance tests;
 * - in the terminal, a retry's delay (plain output has it from formatEventLine).
 */

/**
 * Step starts this close after the first one count as one start "together": the scheduler admits
 * them in one pass, but each start line comes after its worktree is ready, a few ms apart.
 */
const TOGETHER_MS = 100;

/** --stream: lines one step may print per second; the rest are counted and said, so a step that
 *  floods its output cannot drown the run's own lines (its log file keeps every line). */
export const STREAM_LINES_PER_SECOND = 20;

/** A streamed line is cut here: a minified file or a progress bar redrawn with \r is one huge line. */
const STREAM_LINE_CHARS = 400;

interface Held {
  steps: string[];
  lines: string[];
  at: string;
  timer: NodeJS.Timeout;
}

interface Window {
  start: number;
  shown: number;
  dropped: number;
}

export class RunConsole {
  private held: Held | undefined;
  /** Per step: the latest attempt, how many of its tests ran and passed. */
  private readonly tests = new Map<string, { attempt: number; ran: number; passed: number }>();
  private readonly windows = new Map<string, Window>();
  private wsId = "";

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: {
      /** Plain output: every line starts with the time, as the reporter's own. */
      stamped: boolean;
      /** Acceptance tests per step id. */
      testCounts: ReadonlyMap<string, number>;
      now?: () => number;
    },
  ) {}

  /**
   * Sees every event before the reporter prints its line. A step-start's line is held (true:
   * don't print it now) until the starts that come with it are in, then printed after the
   * `starting N in parallel` line; any other event lets the held lines out first.
   */
  before(event: RunEvent, line: string | undefined): boolean {
    this.observe(event);
    // Plain output has formatEventLine's "retry  a in 2s" line; the terminal prints no waits of its own.
    if (!this.options.stamped && event.type === "step-wait" && event.wait === "retry" && event.until !== undefined) {
      this.release();
      this.write(`  ↻ ${event.step} retries in ${formatDuration(Math.max(0, Math.round((Date.parse(event.until) - Date.parse(event.at)) / 100) * 100))} (retry_delay)`);
      return false;
    }
    if (event.type !== "step-start") {
      this.release();
      return false;
    }
    if (!this.held) {
      const timer = setTimeout(() => this.release(), TOGETHER_MS);
      timer.unref();
      this.held = { steps: [], lines: [], at: event.at, timer };
    }
    this.held.steps.push(event.step);
    if (line !== undefined) this.held.lines.push(line);
    return true;
  }

  /** Prints what is held: the reporter is about to print something else, or the run ends. */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    if (held.steps.length > 1) this.write(`${this.stamp(held.at)}starting ${held.steps.length} in parallel: ${held.steps.join(", ")}`);
    for (const line of held.lines) this.write(line);
  }

  /** ` · tests 2/2 passed` for the end of a step with acceptance tests that got to run them. */
  suffix(event: RunEvent): string {
    if (event.type !== "step-end" || event.attempts === 0) return "";
    const total = this.options.testCounts.get(event.step) ?? 0;
    const tally = this.tests.get(event.step);
    // A step whose tool failed never reached its tests; one passed on resume ran them in an earlier run.
    if (total === 0 || tally === undefined || tally.ran === 0) return "";
    return ` · tests ${tally.passed}/${total} passed`;
  }

  /** One line of a running step's output (--stream). */
  output(step: string, line: string): void {
    const now = (this.options.now ?? Date.now)();
    let window = this.windows.get(step);
    if (!window || now - window.start >= 1000) {
      if (window) this.sayDropped(step, window, now);
      window = { start: now, shown: 0, dropped: 0 };
      this.windows.set(step, window);
    }
    if (window.shown >= STREAM_LINES_PER_SECOND) {
      window.dropped += 1;
      return;
    }
    window.shown += 1;
    // A start line held back must come before the output of that start.
    this.release();
    // Control characters left after the colour codes (\r redraws, bells) would garble the terminal.
    // eslint-disable-next-line no-control-regex
    const text = stripAnsi(line).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
    const cut = text.length > STREAM_LINE_CHARS ? `${text.slice(0, STREAM_LINE_CHARS)}…` : text;
    this.write(`${this.stamp(new Date(now).toISOString())}[${step}] ${cut}`);
  }

  private observe(event: RunEvent): void {
    switch (event.type) {
      case "run-start":
        this.wsId = event.wsId;
        return;
      case "step-start":
        this.tests.set(event.step, { attempt: event.attempt, ran: 0, passed: 0 });
        return;
      case "test-end": {
        const tally = this.tests.get(event.step);
        if (tally?.attempt !== event.attempt) return;
        tally.ran += 1;
        if (event.passed) tally.passed += 1;
        return;
      }
      case "attempt-end": {
        // What was left out is said when the attempt ends, not at the next attempt's first line.
        const window = this.windows.get(event.step);
        if (window) this.sayDropped(event.step, window, Date.parse(event.at));
        this.windows.delete(event.step);
        return;
      }
      default:
        return;
    }
  }

  private sayDropped(step: string, window: Window, now: number): void {
    if (window.dropped === 0) return;
    this.write(`${this.stamp(new Date(now).toISOString())}[${step}] … ${window.dropped} more line${window.dropped === 1 ? "" : "s"} (all in ws logs ${this.wsId} --step ${step})`);
    window.dropped = 0;
  }

  private stamp(at: string): string {
    return this.options.stamped ? `${at.slice(11, 23)} ` : "";
  }
}
