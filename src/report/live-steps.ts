import type { ActivityKind, RunEvent, Usage } from "../events/run-event.js";
import { addUsage } from "../events/usage.js";
import type { Budget } from "../workstream/model.js";
import { formatDuration, wholeSeconds } from "../format/duration.js";
import { formatUsage } from "../format/usage.js";
import { stripAnsi } from "../format/ansi.js";

/**
 * What each running step is doing, as the live view (`ws run` in a terminal) and `ws status
 * --watch` show it: a fold of the run's events (like the run state), then a pure function of the
 * fold and the clock to one line per step. The engine and the adapters only emit; this only reads.
 */

/** A step's line says "quiet for …" once nothing came from it for this long. */
export const QUIET_AFTER_MS = 30_000;

export interface LiveStep {
  id: string;
  attempt: number;
  tool: string;
  /** When its current attempt started (epoch ms). */
  startedAt: number;
  /** The last sign of life: its latest activity or progress, else its attempt's start. */
  lastSignAt: number;
  /** Whether this attempt reported any activity (a tool that reports none is not "quiet"). */
  reported: boolean;
  activity?: { kind: ActivityKind; text: string } | undefined;
  /** The running attempt's usage so far (its latest activity's). */
  attemptUsage?: Usage | undefined;
  /** What the step's ended attempts used: a step's budget covers all of them. */
  priorUsage?: Usage | undefined;
}

export class LiveSteps {
  private readonly steps = new Map<string, LiveStep>();
  /** Ended attempts' usage, by step (kept while the step waits for its next attempt). */
  private readonly spent = new Map<string, Usage | undefined>();
  private ended: Usage | undefined;
  budget: Budget | undefined;
  budgets: Readonly<Record<string, Budget>> = {};

  observe(event: RunEvent): void {
    const at = Date.parse(event.at);
    switch (event.type) {
      case "run-start":
        // A resume's earlier runs spent what they spent; this run's view starts from its own start.
        this.steps.clear();
        this.spent.clear();
        this.ended = undefined;
        this.budget = event.budget;
        this.budgets = event.budgets ?? {};
        break;
      case "step-start":
        this.steps.set(event.step, { id: event.step, attempt: event.attempt, tool: event.tool, startedAt: at, lastSignAt: at, reported: false, priorUsage: this.spent.get(event.step) });
        break;
      case "activity": {
        const step = this.steps.get(event.step);
        if (!step || step.attempt !== event.attempt) break;
        step.activity = { kind: event.kind, text: event.text };
        step.attemptUsage = event.usage ?? step.attemptUsage;
        step.lastSignAt = Math.max(step.lastSignAt, at);
        step.reported = true;
        break;
      }
      case "progress": {
        const step = this.steps.get(event.step);
        if (step) step.lastSignAt = Math.max(step.lastSignAt, at);
        break;
      }
      case "attempt-end":
        this.spent.set(event.step, addUsage(this.spent.get(event.step), event.usage));
        this.ended = addUsage(this.ended, event.usage);
        // Between attempts (a retry waiting its turn, a quota) it runs nothing: no line.
        this.steps.delete(event.step);
        break;
      case "step-end":
        this.steps.delete(event.step);
        this.spent.delete(event.step);
        break;
      default:
        break;
    }
  }

  /** The running steps, in the order they started. */
  running(): LiveStep[] {
    return [...this.steps.values()];
  }

  /** What the run has used: its ended attempts and its running ones so far. */
  runUsage(): Usage | undefined {
    let total = this.ended;
    for (const step of this.steps.values()) total = addUsage(total, step.attemptUsage);
    return total;
  }

  budgetOf(step: string): Budget | undefined {
    return Object.hasOwn(this.budgets, step) ? this.budgets[step] : undefined;
  }
}

/** The largest share of a budget spent (0.42 = 42%), over the limits it sets; undefined without one. */
export function budgetShare(budget: Budget | undefined, used: Usage | undefined): number | undefined {
  if (!budget) return undefined;
  const u = used ?? {};
  const tokens = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  const shares: number[] = [];
  if (budget.maxCostUsd !== undefined && budget.maxCostUsd > 0) shares.push((u.costUsd ?? 0) / budget.maxCostUsd);
  if (budget.maxTokens !== undefined && budget.maxTokens > 0) shares.push(tokens / budget.maxTokens);
  if (budget.maxTurns !== undefined && budget.maxTurns > 0) shares.push((u.turns ?? 0) / budget.maxTurns);
  return shares.length === 0 ? undefined : Math.max(...shares);
}

/** "12,340 tok $0.0421 (42% of its budget)": what a step spent so far and its share of the limit that binds first. */
export function spendText(used: Usage | undefined, own: Budget | undefined, run: Budget | undefined): string {
  // Nothing reported yet: a "0% of its budget" would say nothing.
  if (used === undefined) return "";
  const spent = formatUsage(used);
  const share = budgetShare(own, used);
  // Without its own limit, the run's is the one that can stop it.
  const runShare = share === undefined ? budgetShare(run, used) : undefined;
  const of = share !== undefined ? `${Math.floor(share * 100)}% of its budget` : runShare !== undefined ? `${Math.floor(runShare * 100)}% of the run's budget` : "";
  return [spent, of && `(${of})`].filter(Boolean).join(" ");
}

/** "spent 40,120 tok $0.31 (31% of the run's budget)" for the view's header; "" when nothing was reported. */
export function runSpendText(view: LiveSteps): string {
  const used = view.runUsage();
  // Nothing reported (tools that report no usage, or not yet): no "0% of the run's budget".
  if (used === undefined) return "";
  const spent = formatUsage(used);
  const share = budgetShare(view.budget, used);
  if (!spent && share === undefined) return "";
  return `spent ${spent || "nothing yet"}${share !== undefined ? ` (${Math.floor(share * 100)}% of the run's budget)` : ""}`;
}

const visible = (text: string): number => [...text].length;

/**
 * `text` in at most `width` columns: cut with `…` at its end, or, for a file (`Edit src/a/b.ts`),
 * in its middle, so both the verb and the file's name stay. Counted in code points: a wide
 * character may take two columns (rare in what agents report; the line then wraps by one).
 */
export function fitText(text: string, width: number, middle = false): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return "…".slice(0, Math.max(0, width));
  if (!middle || width < 12) return chars.slice(0, width - 1).join("") + "…";
  const space = text.indexOf(" ");
  const head = Math.min(space >= 0 ? space + 1 : 0, Math.floor(width / 3));
  const tail = width - head - 1;
  return chars.slice(0, head).join("") + "…" + chars.slice(chars.length - tail).join("");
}

/**
 * A tool's words as one line of ws's view: no escape sequences (a colour or a cursor move would
 * break the redraw), no control characters, whitespace runs as one space.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return stripAnsi(text).replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").replace(/\s+/g, " ").trim();
}

export interface LineStyle {
  dim(text: string): string;
  yellow(text: string): string;
}

const PLAIN: LineStyle = { dim: (t) => t, yellow: (t) => t };

/**
 * One running step in `width` columns: `build 1m12s · Edit src/x.ts · 1,200 tok $0.04 (42% of its
 * budget) · quiet for 2m`. Only the activity gives way to the width (the id, time and spend are
 * what a glance needs); past that the whole line is cut.
 */
export function liveStepLine(step: LiveStep, view: Pick<LiveSteps, "budget" | "budgetOf">, now: number, width: number, style: LineStyle = PLAIN): string {
  const elapsed = wholeSeconds(now - step.startedAt);
  const head = `${step.id} ${step.attempt > 1 ? `attempt ${step.attempt}, ` : ""}${elapsed}`;
  const used = addUsage(step.priorUsage, step.attemptUsage);
  const spend = spendText(used, view.budgetOf(step.id), view.budget);
  const silent = now - step.lastSignAt;
  // A step whose tool tells nothing (a shell command) is not quiet, only unreported.
  const quiet = silent >= QUIET_AFTER_MS && (step.reported || step.tool !== "shell") ? `quiet for ${formatDuration(Math.floor(silent / 1000) * 1000)}` : "";
  const fixed = [head, spend, quiet].filter(Boolean);
  const sep = " · ";
  const text = step.activity ? oneLine(step.activity.text) : "";
  const room = width - visible(fixed.join(sep)) - (text ? sep.length : 0);
  const file = step.activity?.kind === "edit" || step.activity?.kind === "read";
  const shown = text && room >= 8 ? fitText(text, room, file) : "";
  const parts = [head, shown, spend && style.dim(spend), quiet && style.yellow(quiet)].filter(Boolean);
  const plainParts = [head, shown, spend, quiet].filter(Boolean);
  const line = plainParts.join(sep);
  // Too narrow even without the activity: cut the plain line (no styles to cut through).
  return visible(line) > width ? fitText(line, width) : parts.join(sep);
}

/**
 * The view's lines: one per running step, at most `rows` of them (the terminal's height less the
 * header), the rest counted on a last line.
 */
export function liveLines(view: LiveSteps, now: number, width: number, rows: number, style: LineStyle = PLAIN): string[] {
  const running = view.running();
  const room = Math.max(1, rows);
  const shown = running.length > room ? running.slice(0, room - 1) : running;
  const lines = shown.map((step) => liveStepLine(step, view, now, width, style));
  if (shown.length < running.length) lines.push(style.dim(fitText(`+${running.length - shown.length} more running: ${running.slice(shown.length).map((s) => s.id).join(", ")}`, width)));
  return lines;
}
