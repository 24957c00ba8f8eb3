import { formatDuration } from "../format/duration.js";
import type { AttemptBar, Segment, Timeline, TimelineRow } from "./timeline.js";

/**
 * The run's timeline (src/report/timeline.ts) as a Mermaid `gantt`, for the Markdown summary
 * (GitHub renders Mermaid blocks). One section per step, one task per attempt, one per wait
 * before it and one for its compensation in a rollback; a step's tests are counted in its attempt's label (a task each would split the
 * attempt's bar in rows). Critical-path attempts are `crit`, passed ones `done`, waits
 * `active` (the lighter bar), failed ones plain with their reason in the label.
 *
 * Times are ms from the run's start with `dateFormat x` (epoch ms), drawn with `%Q`/`%s` (ms or
 * s since the epoch), which d3 formats the same in every time zone; `%M:%S` would show the
 * viewer's offset from UTC in a half-hour zone.
 */

export interface GanttOptions {
  /** Steps drawn at most (GitHub refuses a diagram past 50 000 characters); the rest are counted. */
  maxSteps?: number | undefined;
}

export interface Gantt {
  text: string;
  /** Steps that ran but were left out for size. */
  omitted: number;
}

const MAX_STEPS = 100;

/**
 * Text in a task's or section's name: the gantt grammar ends a name at `:` (and its data at `#`
 * or `;`), starts a comment at `%`, and a line at a newline. Mermaid decodes `#<code>;` entities
 * after parsing, so those characters are written as their codes (`#` first: it starts the others).
 */
export function ganttText(text: string): string {
  return text
    .replace(/#/g, "#35;")
    .replace(/:/g, "#58;")
    .replace(/;(?<!#\d+;)/g, "#59;")
    .replace(/%/g, "#37;")
    .replace(/</g, "#60;")
    .replace(/>/g, "#62;")
    .replace(/[\r\n\t]+/g, " ")
    .trim();
}

export function renderGanttMermaid(timeline: Timeline, options: GanttOptions = {}): Gantt {
  const max = options.maxSteps ?? MAX_STEPS;
  // A step with nothing to draw (skipped, blocked, not selected) has no section: the table lists it.
  const drawn = timeline.rows.map((row, r) => ({ row, tasks: rowTasks(row, r) })).filter((d) => d.tasks.length > 0);
  // Past the limit the critical path stays, then the steps in the order they began.
  const byStart = [...drawn].sort((a, b) => Number(b.row.critical) - Number(a.row.critical) || firstStart(a.row) - firstStart(b.row));
  const kept = new Set(byStart.slice(0, max));
  const rows = drawn.filter((d) => kept.has(d));
  const step = tickStep(timeline.ticks);
  const status = timeline.status === "running" ? `running for ${formatDuration(timeline.makespanMs)}` : `${timeline.status} in ${formatDuration(timeline.makespanMs)}`;
  const critical = timeline.criticalPath.steps.length > 0 ? `, critical path ${formatDuration(timeline.criticalPath.ms)}` : "";
  const lines = [
    "gantt",
    `  title ${ganttText(`${timeline.wsId}: ${status}${critical}`)}`,
    "  dateFormat x",
    `  axisFormat ${axisFormat(step, timeline.makespanMs)}`,
    ...(step > 0 ? [`  tickInterval ${tickInterval(step)}`] : []),
    "  todayMarker off",
  ];
  for (const { row, tasks } of rows) lines.push(`  section ${ganttText(row.step) || "(no id)"}`, ...tasks);
  return { text: lines.join("\n") + "\n", omitted: drawn.length - rows.length };
}

/** A row's tasks in time order: each wait that took time, each attempt, its compensation. */
function rowTasks(row: TimelineRow, r: number): string[] {
  const tasks: string[] = [];
  let wait = 0;
  let undo = 0;
  for (const segment of row.segments) {
    if (segment.kind.startsWith("wait-")) {
      if (segment.end > segment.start) tasks.push(task(segment.label, ["active"], `w${r}_${++wait}`, segment));
    } else if (segment.kind === "compensate") {
      tasks.push(task(segment.label, [], `c${r}_${++undo}`, segment));
    } else if (segment.kind === "attempt") {
      const bar = row.attempts.find((a) => a.attempt === segment.attempt);
      if (bar) tasks.push(task(attemptLabel(bar), attemptTags(bar, row), attemptId(r, bar.attempt), bar));
    }
  }
  return tasks;
}

/** A task's id in the gantt (`a<row>_<attempt>`): what its bar's `<rect id>` is in mermaid's SVG. */
export function attemptId(row: number, attempt: number): string {
  return `a${row}_${attempt}`;
}

function task(label: string, tags: string[], id: string, span: Pick<Segment, "start" | "end">): string {
  // A task of 0 ms has no bar at all; a millisecond keeps it (and its place) visible.
  const end = Math.max(span.end, span.start + 1);
  return `    ${ganttText(label) || "-"} :${[...tags, id, String(Math.round(span.start)), String(Math.round(end))].join(", ")}`;
}

function attemptLabel(bar: AttemptBar): string {
  const tests = bar.tests.length > 0 ? `, ${bar.tests.length} test${bar.tests.length === 1 ? "" : "s"}` : "";
  const outcome = bar.open ? "running" : bar.passed ? "passed" : `✗ ${bar.reason}`;
  return `attempt ${bar.attempt} (${bar.tool}${tests}) ${outcome} ${formatDuration(bar.end - bar.start)}`;
}

function attemptTags(bar: AttemptBar, row: TimelineRow): string[] {
  const tags: string[] = [];
  if (row.critical) tags.push("crit");
  if (bar.passed) tags.push("done");
  return tags;
}

function firstStart(row: TimelineRow): number {
  return row.segments[0]?.start ?? row.attempts[0]?.start ?? 0;
}

function tickStep(ticks: readonly number[]): number {
  return ticks.length > 1 ? ticks[1]! - ticks[0]! : 0;
}

function axisFormat(step: number, span: number): string {
  if (step > 0 && step < 1000) return span < 2000 ? "%Q ms" : "%s.%L s";
  return "%s s";
}

function tickInterval(step: number): string {
  if (step % 60_000 === 0) return `${step / 60_000}minute`;
  if (step % 1000 === 0) return `${step / 1000}second`;
  return `${step}millisecond`;
}
