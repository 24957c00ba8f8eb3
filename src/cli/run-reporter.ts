import { stateMark } from "../format/state-marks.js";
import { attemptsPhrase } from "../format/attempts.js";
import { formatReason } from "../events/end-reason.js";
import { waitingLabel } from "../report/waiting.js";
import type { Ora } from "ora";
import type { ChalkInstance } from "chalk";
import type { CliContext } from "./context.js";
import type { RunEvent } from "../events/run-event.js";
import type { RunListener } from "../events/listener.js";
import { formatDuration } from "../format/duration.js";
import { stripAnsi } from "../format/ansi.js";
import { formatEventLine, runBaseText } from "../report/event-line.js";
import { progressOf, progressText, stateProgress } from "../report/progress.js";
import type { RunState } from "../store/run-state.js";
import { failureTail, timeoutNote, type Limits } from "../report/failure-tail.js";
import { TerminalPrompter } from "./approval-prompt.js";
import type { AskApproval } from "../engine/approvals.js";

/** How to decide a gate from another terminal. */
function decideHint(wsId: string, step: string): string {
  return `ws approve ${wsId} --step ${step}, or ws reject ${wsId} --step ${step} --reason "..."`;
}

export type ReporterMode = "tty" | "plain" | "json";

/** Plain output's longest silence before a progress line. */
const QUIET_MS = 10_000;

/**
 * Live progress while a run goes: an ora spinner line plus a line per finished step in a
 * terminal; plain timestamped lines when piped or under CI (no spinner, no escape codes); one
 * JSON event per line with --json.
 */
export class RunReporter implements RunListener {
  private spinner: Ora | undefined;
  private selected: string[] = [];
  private readonly ended = new Set<string>();
  private expectedMs: Record<string, number> | undefined;
  private weights: Record<string, number> | undefined;
  /** What each running step last wrote to $WS_PROGRESS (0..1). */
  private readonly partial = new Map<string, number>();
  /** When plain output last printed a line: a quiet stretch gets a progress line. */
  private lastLineAt = 0;
  private readonly running = new Set<string>();
  private startedAt = 0;
  private estimateMs: number | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private wsId = "";
  /** Steps waiting at their approval gate. */
  private readonly gated = new Set<string>();
  private prompter: TerminalPrompter | undefined;
  private state: RunState | undefined;

  constructor(
    private readonly ctx: CliContext,
    readonly mode: ReporterMode,
    private readonly chalk: ChalkInstance,
    private readonly limits?: Limits,
  ) {}

  static async create(ctx: CliContext, json: boolean, limits?: Limits): Promise<RunReporter> {
    const { Chalk } = await import("chalk");
    const chalk = new Chalk({ level: ctx.color ? 1 : 0 });
    // The spinner redraws on stderr; a pseudo-terminal that reports no width (some CI runners,
    // `script`) makes ora clear an unbounded number of lines, so it needs a real, sized terminal.
    const stderr = ctx.stderr as NodeJS.WriteStream;
    const sized = Boolean(stderr.isTTY) && (stderr.columns ?? 0) > 0;
    const mode: ReporterMode = json ? "json" : ctx.interactive && sized && !ctx.quiet ? "tty" : "plain";
    const reporter = new RunReporter(ctx, mode, chalk, limits);
    if (mode === "tty") {
      const { default: ora } = await import("ora");
      reporter.spinner = ora({ stream: ctx.stderr as NodeJS.WriteStream, color: "cyan", discardStdin: false });
    }
    return reporter;
  }

  onEvent = (event: RunEvent, state?: RunState): void => {
    // The run's state is what ws status reads too: the progress figure comes from it (stateProgress).
    if (state) this.state = state;
    if (this.mode === "json") {
      this.ctx.stdout.write(JSON.stringify(event) + "\n");
      return;
    }
    this.track(event);
    if (this.mode === "plain") {
      // A step's own progress goes in the periodic progress line, not a line per change.
      if (event.type === "progress") return;
      if (this.ctx.quiet && event.type !== "run-end" && !(event.type === "step-end" && event.state !== "passed")) return;
      const line = formatEventLine(event);
      if (line !== undefined) this.plainLine(`${event.at.slice(11, 23)} ${line}${this.timeout(event)}`);
      if (event.type === "approval-wait") this.plainLine(`  decide with: ${decideHint(this.wsId, event.step)}`);
      if (event.type === "attempt-end") for (const l of failureTail(event)) this.plainLine(l);
      return;
    }
    const line = this.ttyLine(event);
    if (line !== undefined) {
      this.spinner?.clear();
      this.ctx.stdout.write(line + "\n");
      if (event.type === "attempt-end") for (const l of failureTail(event)) this.ctx.stdout.write(this.chalk.dim(l) + "\n");
    }
    this.render();
  };

  /** ` (timed out after its 5m limit)` for a timed-out attempt or test. */
  private timeout(event: RunEvent): string {
    const note = event.type === "attempt-end" || event.type === "test-end" ? timeoutNote(event, this.limits) : undefined;
    return note ? ` (${note})` : "";
  }

  /**
   * Asks approval questions at the terminal when the run has one for input and output; undefined
   * otherwise (piped, CI, --json): gates then wait for `ws approve` or their timeout.
   */
  asker(input: NodeJS.ReadableStream & { isTTY?: boolean }): AskApproval | undefined {
    if (this.mode !== "tty" || !input.isTTY) return undefined;
    this.prompter = new TerminalPrompter(input, (line) => this.print(this.chalk.cyan(line)), (step) => decideHint(this.wsId, step));
    return this.prompter.ask;
  }

  private print(line: string): void {
    this.spinner?.clear();
    this.ctx.stdout.write(line + "\n");
    this.render();
  }

  private track(event: RunEvent): void {
    if (event.type === "approval-wait") this.gated.add(event.step);
    else if (event.type === "approval-end") this.gated.delete(event.step);
    if (event.type === "run-start") {
      this.wsId = event.wsId;
      this.selected = event.selected;
      this.startedAt = Date.parse(event.at);
      this.lastLineAt = Date.now();
      this.estimateMs = event.estimateMs;
      this.expectedMs = event.expectedMs;
      this.weights = event.weights;
      if (this.spinner) {
        this.spinner.start();
        this.ticker = setInterval(() => this.render(), 500);
      } else if (this.mode === "plain" && !this.ctx.quiet) {
        this.ticker = setInterval(() => this.quietTick(Date.now()), 1000);
      }
      this.ticker?.unref();
    } else if (event.type === "step-start") this.running.add(event.step);
    else if (event.type === "progress") this.partial.set(event.step, event.fraction);
    // A retry starts its work again.
    else if (event.type === "attempt-end") this.partial.delete(event.step);
    else if (event.type === "step-end") {
      this.running.delete(event.step);
      this.partial.delete(event.step);
      this.ended.add(event.step);
    }
  }

  private plainLine(line: string, now = Date.now()): void {
    this.ctx.stdout.write(line + "\n");
    this.lastLineAt = now;
  }

  /**
   * Plain output (CI logs, pipes) after 10 s without a line: one progress line, so a log that
   * goes quiet during a long step still shows the run is alive and how far it is.
   */
  quietTick(now: number): void {
    if (this.mode !== "plain" || now - this.lastLineAt < QUIET_MS || this.selected.length === 0) return;
    const at = new Date(now).toISOString().slice(11, 23);
    this.plainLine(`${at} progress: ${this.progressLine(now)}`, now);
  }

  /** "3/10 done (45% of the expected work) · running: a, b · awaiting approval: c · 1m20s · ETA 2m". */
  private progressLine(now: number): string {
    const elapsed = now - this.startedAt;
    const p = this.state ? stateProgress(this.state, now) : progressOf({
      selected: this.selected,
      ended: (id) => this.ended.has(id),
      expectedMs: this.expectedMs,
      weights: this.weights,
      partial: (id) => this.partial.get(id),
      estimateMs: this.estimateMs,
      elapsedMs: elapsed,
    });
    const text = progressText(p, formatDuration);
    const names = [...this.running].map((id) => {
      const own = this.partial.get(id);
      return own === undefined ? id : `${id} ${Math.floor(own * 100)}%`;
    });
    const shown = names.slice(0, 4).join(", ") + (names.length > 4 ? ` +${names.length - 4}` : "");
    const gated = this.gated.size > 0 ? ` · awaiting approval: ${[...this.gated].join(", ")}` : "";
    return `${text.done} · running: ${shown || "-"}${gated} · ${formatDuration(elapsed)}${text.eta ? ` · ${text.eta}` : ""}`;
  }

  private ttyLine(event: RunEvent): string | undefined {
    const c = this.chalk;
    switch (event.type) {
      case "step-end": {
        const mark = stateMark(event.state, c);
        const why = event.state === "passed" ? "" : ` ${c.dim(formatReason(event.reason))}${event.detail ? c.dim(` — ${stripAnsi(event.detail)}`) : ""}`;
        // A step that never started (cancelled, skipped before its turn) took no time worth a "0ms".
        const took = event.attempts === 0 ? "" : ` ${c.dim(formatDuration(event.durationMs))}`;
        return `${mark} ${event.step}${why}${took}${event.attempts > 1 ? c.dim(` (${attemptsPhrase(event.attempts, event.interrupted)})`) : ""}`;
      }
      case "attempt-end":
        if (event.free) return c.yellow(`  ⏸ ${event.step} ${waitingLabel(event.resetAt)}: ${event.detail ? stripAnsi(event.detail) : formatReason(event.reason)}`);
        return event.passed ? undefined : c.yellow(`  ↻ ${event.step} attempt ${event.attempt}: ${formatReason(event.reason)}${this.timeout(event)}${event.detail ? ` — ${stripAnsi(event.detail)}` : ""}`);
      case "approval-wait":
        // With a prompt, the question itself is the line.
        return this.prompter ? undefined : c.yellow(`  ⏸ ${formatEventLine(event) ?? ""} (${decideHint(this.wsId, event.step)})`);
      case "approval-end":
        return event.approved ? c.green(`  ✔ ${formatEventLine(event) ?? ""}`) : c.red(`  ✖ ${formatEventLine(event) ?? ""}`);
      case "breaker":
        return c.magenta(`  ⚡ ${formatEventLine(event) ?? ""}`);
      case "warning":
        return c.yellow(`  ! ${formatEventLine(event) ?? ""}`);
      case "rollback-start":
      case "rollback-end":
        return c.magenta(`  ⟲ ${formatEventLine(event) ?? ""}`);
      case "compensate-end":
        return `  ${event.passed ? c.green("⟲") : c.red("✖")} ${formatEventLine(event) ?? ""}`;
      case "compensate-start":
        return undefined;
      case "run-start": {
        const header = runBaseText(event);
        return header === undefined ? undefined : c.dim(header);
      }
      case "run-end":
      case "progress":
      case "step-wait":
      case "activity":
      case "step-start":
      case "test-start":
      case "test-end":
        return undefined;
    }
  }

  private render(): void {
    if (this.spinner) this.spinner.text = this.progressLine(Date.now());
  }

  close(): void {
    this.prompter?.close();
    if (this.ticker) clearInterval(this.ticker);
    this.spinner?.stop();
  }
}
