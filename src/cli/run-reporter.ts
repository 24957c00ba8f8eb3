import { stateMark } from "../format/state-marks.js";
import { attemptsPhrase } from "../format/attempts.js";
import { formatReason } from "../events/end-reason.js";
import { waitingLabel } from "../report/waiting.js";
import type { Ora } from "ora";
import type { ChalkInstance } from "chalk";
import type { CliContext } from "./context.js";
import type { RunEvent } from "../events/run-event.js";
import type { RunListener } from "../events/listener.js";
import { formatDuration, wholeSeconds } from "../format/duration.js";
import { stripAnsi } from "../format/ansi.js";
import { formatEventLine, runBaseText } from "../report/event-line.js";
import { progressOf, progressText, stateProgress } from "../report/progress.js";
import type { RunState } from "../store/run-state.js";
import { failureTail, timeoutNote, type Limits } from "../report/failure-tail.js";
import { TerminalPrompter } from "./approval-prompt.js";
import { LiveSteps, fitText, liveLines, runSpendText } from "../report/live-steps.js";
import { ActivityThrottle, throttledLine } from "../report/activity-throttle.js";
import type { AskApproval } from "../engine/approvals.js";
import type { RunConsole } from "./run-console.js";
import type { SetupStart } from "../git/lanes.js";

/** How to decide a gate from another terminal. */
function decideHint(wsId: string, step: string): string {
  return `ws approve ${wsId} --step ${step}, or ws reject ${wsId} --step ${step} --reason "..."`;
}

export type ReporterMode = "tty" | "plain" | "json";

/** Plain output's longest silence before a progress line. */
const QUIET_MS = 10_000;

/** The live view's text is recomputed this often, and ora draws at the same interval: ~10 redraws a second at most. */
export const FRAME_MS = 100;

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
  /** Steps admitted and waiting for their lane (a checkout, or a new lane's setup), since when. */
  private readonly laneWait = new Map<string, number>();
  private prompter: TerminalPrompter | undefined;
  /** What each running step does and spends (the live view's lines). */
  private readonly live = new LiveSteps();
  /** Plain output: which activities get a line (news, at most one per step per 10 s). */
  private readonly throttle = new ActivityThrottle();
  /** The seeds' extra lines (parallel starts, --stream, test counts): see run-console.ts. */
  extras: RunConsole | undefined;
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
      // ora redraws on its own timer; its interval is the view's frame rate.
      reporter.spinner = ora({ stream: ctx.stderr as NodeJS.WriteStream, color: "cyan", discardStdin: false, interval: FRAME_MS });
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
      // orchestrator.log has every activity; a pipe gets the news among them at a bounded rate.
      if (event.type === "activity") return this.activityLine(event);
      const line = formatEventLine(event);
      const text = line === undefined ? undefined : `${event.at.slice(11, 23)} ${line}${this.timeout(event)}${this.extras?.suffix(event) ?? ""}`;
      if (this.extras?.before(event, text)) return;
      if (text !== undefined) this.plainLine(text);
      if (event.type === "approval-wait") this.plainLine(`  decide with: ${decideHint(this.wsId, event.step)}`);
      if (event.type === "attempt-end") for (const l of failureTail(event)) this.plainLine(l);
      return;
    }
    this.extras?.before(event, undefined);
    const line = this.ttyLine(event);
    if (line !== undefined) {
      this.spinner?.clear();
      this.ctx.stdout.write(line + this.chalk.dim(this.extras?.suffix(event) ?? "") + "\n");
      if (event.type === "attempt-end") for (const l of failureTail(event)) this.ctx.stdout.write(this.chalk.dim(l) + "\n");
    }
    // An agent may report hundreds of activities a second: the frame timer shows them.
    if (event.type !== "activity") this.render();
  };

  /** A plain line for the news among activities (see ActivityThrottle), stamped when it happened. */
  private activityLine(event: Extract<RunEvent, { type: "activity" }>, now = Date.parse(event.at)): void {
    const line = this.throttle.offer(event, now);
    if (line) this.plainLine(`${line.event.at.slice(11, 23)} ${throttledLine(line)}`);
  }

  /** ` (timed out after its 5m limit)` for a timed-out attempt or test. */
  private timeout(event: RunEvent): string {
    const note = event.type === "attempt-end" || event.type === "test-end" ? timeoutNote(event, this.limits) : undefined;
    return note ? ` (${note})` : "";
  }

  /**
   * Asks approval questions at the terminal when the run has one for input and output; undefined
   * otherwise (piped, CI, --json): gates then wait for `ws approve` or their timeout.
   */
  /** A getter of the input: process.stdin is made on first read (for a file or /dev/null a read stream, which loads node:fs/promises and more), and only a terminal run asks. */
  asker(stdin: () => NodeJS.ReadableStream & { isTTY?: boolean }): AskApproval | undefined {
    if (this.mode !== "tty") return undefined;
    const input = stdin();
    if (!input.isTTY) return undefined;
    this.prompter = new TerminalPrompter(input, (line) => this.print(this.chalk.cyan(line)), (step) => decideHint(this.wsId, step));
    return this.prompter.ask;
  }

  /**
   * A lane's worktree.setup starting. The first lane's runs before the run starts (the header
   * names the lane), and an `npm ci` or a pip install can take minutes: said at once, and in a
   * terminal the spinner counts its time until the run starts.
   */
  setupStarted(setup: SetupStart, now = Date.now()): void {
    const what = `setting up lane-${setup.lane}: worktree.setup "${setup.command}"`;
    const output = ` (output: ${setup.logFile})`;
    const text = what + output;
    if (this.mode === "plain" && !this.ctx.quiet) this.plainLine(`${new Date(now).toISOString().slice(11, 23)} ${text}`, now);
    if (this.mode !== "tty" || !this.spinner) return;
    if (this.startedAt !== 0) return this.print(this.chalk.dim(text));
    // The spinner's frame takes two columns before the text.
    const draw = () => {
      if (this.spinner) this.spinner.text = fitText(`${what} · ${wholeSeconds(Date.now() - now)}${output}`, this.lineWidth() - 2);
    };
    draw();
    this.spinner.start();
    clearInterval(this.ticker);
    this.ticker = setInterval(draw, FRAME_MS);
    this.ticker.unref();
  }

  /** Whether the run has started (run-start seen): before it, the first lane is being set up. */
  get started(): boolean {
    return this.startedAt !== 0;
  }

  /** Clears the spinner's frame for a line written around the reporter (the Ctrl-C notice); the next frame draws it again. */
  pause(): void {
    this.spinner?.clear();
  }

  /** A line of the run's own from outside the reporter (run-console.ts), between the spinner's redraws. */
  say(line: string): void {
    if (this.mode === "plain") this.plainLine(line);
    else if (this.mode === "tty") this.print(line);
  }

  private print(line: string): void {
    this.spinner?.clear();
    this.ctx.stdout.write(line + "\n");
    this.render();
  }

  private track(event: RunEvent): void {
    this.live.observe(event);
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
      // The setup's own ticker (setupStarted), if the first lane was set up.
      clearInterval(this.ticker);
      if (this.spinner) {
        this.spinner.start();
        this.ticker = setInterval(() => this.render(), FRAME_MS);
      } else if (this.mode === "plain" && !this.ctx.quiet) {
        this.ticker = setInterval(() => this.quietTick(Date.now()), 1000);
      }
      this.ticker?.unref();
    } else if (event.type === "step-wait" && event.wait === "lane") this.laneWait.set(event.step, Date.parse(event.at));
    else if (event.type === "step-start") {
      this.running.add(event.step);
      this.laneWait.delete(event.step);
    }
    else if (event.type === "progress") this.partial.set(event.step, event.fraction);
    // A retry starts its work again.
    else if (event.type === "attempt-end") this.partial.delete(event.step);
    else if (event.type === "step-end") {
      this.throttle.end(event.step);
      this.running.delete(event.step);
      this.laneWait.delete(event.step);
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
    if (this.mode !== "plain") return;
    // News that waited for its step's 10 s window.
    for (const line of this.throttle.due(now)) this.plainLine(`${new Date(now).toISOString().slice(11, 23)} ${throttledLine(line)}`, now);
    if (now - this.lastLineAt < QUIET_MS || this.selected.length === 0) return;
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
    return `${text.done} · running: ${shown || "-"}${gated}${this.laneWaitText(now)} · ${formatDuration(elapsed)}${text.eta ? ` · ${text.eta}` : ""}`;
  }

  /** A checkout takes milliseconds; a step still without its lane after a second waits for that lane's setup. */
  private laneWaitText(now: number): string {
    const waiting = [...this.laneWait].filter(([, since]) => now - since >= 1000).map(([step]) => step);
    return waiting.length > 0 ? ` · lane being set up for: ${waiting.join(", ")}` : "";
  }

  private ttyLine(event: RunEvent): string | undefined {
    const c = this.chalk;
    switch (event.type) {
      case "step-end": {
        const mark = stateMark(event.state, c);
        const why = event.state === "passed" ? "" : ` ${c.dim(formatReason(event.reason))}${event.detail ? c.dim(` — ${stripAnsi(event.detail)}`) : ""}`;
        // A step that never started (cancelled, skipped before its turn) took no time worth a "0ms".
        const took = event.attempts === 0 ? "" : ` ${c.dim(formatDuration(event.durationMs))}`;
        return `${mark} ${event.step}${why}${took}${event.attempts > 1 ? c.dim(` (${attemptsPhrase(event.attempts, event.interrupted, event.earlierTries)})`) : ""}`;
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
        return event.level === "info" ? c.dim(`  i ${formatEventLine(event) ?? ""}`) : c.yellow(`  ! ${formatEventLine(event) ?? ""}`);
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

  /**
   * The live view: the progress line, then a line per running step (its activity, spend, "quiet
   * for …"), each fitted to the terminal so ora's redraw never wraps.
   */
  private render(now = Date.now()): void {
    if (!this.spinner) return;
    const width = this.lineWidth();
    const rows = Math.max(3, ((this.ctx.stderr as NodeJS.WriteStream).rows ?? 24) - 4);
    const lines = liveLines(this.live, now, width - 4, rows, this.chalk);
    const spend = runSpendText(this.live);
    const header = lines.length > 0 ? this.viewHeader(now) : this.progressLine(now);
    // The spinner's frame takes two columns before the header.
    this.spinner.text = [fitText(header + (spend ? ` · ${spend}` : ""), width - 2), ...lines.map((l) => `  ${this.chalk.cyan("▸")} ${l}`)].join("\n");
  }

  /** The live view's first line: the progress line without the running steps' names (each has its own line). */
  private viewHeader(now: number): string {
    const elapsed = now - this.startedAt;
    const p = progressOf({ selected: this.selected, ended: (id) => this.ended.has(id), expectedMs: this.expectedMs, weights: this.weights, partial: (id) => this.partial.get(id), estimateMs: this.estimateMs, elapsedMs: elapsed });
    const text = progressText(p, formatDuration);
    const gated = this.gated.size > 0 ? ` · awaiting approval: ${[...this.gated].join(", ")}` : "";
    return `${text.done} · ${this.running.size} running${gated}${this.laneWaitText(now)} · ${wholeSeconds(elapsed)}${text.eta ? ` · ${text.eta}` : ""}`;
  }

  /** Columns a line of the live view may take: one spare, as a line that fills the last column makes some terminals wrap it. */
  private lineWidth(): number {
    return Math.max(20, ((this.ctx.stderr as NodeJS.WriteStream).columns ?? 80) - 1);
  }

  close(): void {
    this.extras?.release();
    this.prompter?.close();
    if (this.ticker) clearInterval(this.ticker);
    this.spinner?.stop();
  }
}
