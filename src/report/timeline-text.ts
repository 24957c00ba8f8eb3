import type { ChalkInstance } from "chalk";
import { formatDuration } from "../format/duration.js";
import { stateMark } from "../format/state-marks.js";
import type { AttemptBar, SegmentKind, Timeline, TimelineRow } from "./timeline.js";

/**
 * `ws status --timeline`: the run's timeline (src/report/timeline.ts) as text bars fitted to a
 * width, the seeds' `[====]` picture: one row per step on a shared time axis. Every kind of
 * stretch has its own character, so the picture reads the same without colour (a pipe,
 * --no-color); colour only adds the outcome. Pure: the caller prints it.
 */

export interface TimelineTextOptions {
  /** Columns to fit in (the terminal's). */
  width: number;
  /** Level 0 for plain text: no escape codes at all. */
  chalk: ChalkInstance;
  /** What to call the run in the header when the timeline's own status does not say it (`interrupted`). */
  status?: string | undefined;
}

/** What a column of a row shows; the style picks its colour. */
type Style = "wait" | "approval" | "parked" | "commit" | "compensate" | "compensate-failed" | "tool" | "tool-failed" | "tool-running" | "tool-cut" | "test" | "test-failed";

interface Cell {
  ch: string;
  style: Style;
}

/** The characters, shared by the picture and its legend. */
const GLYPH = {
  tool: "=",
  test: "#",
  wait: "·",
  approval: "?",
  parked: "z",
  commit: "+",
  compensate: "<",
  open: "[",
  passed: "]",
  failed: "x",
  cut: "/",
  running: ">",
  critical: "*",
} as const;

// Every wait kind (a new one is a compile error until it gets a glyph); the other kinds are drawn on their own below.
const WAIT_STYLE: Partial<Record<SegmentKind, Style>> = {
  "wait-retry": "wait",
  "wait-worker": "wait",
  "wait-rate": "wait",
  "wait-order": "wait",
  "wait-lane": "wait",
  "wait-approval": "approval",
  "wait-quota": "parked",
  "wait-breaker": "parked",
} satisfies Record<Extract<SegmentKind, `wait-${string}`>, Style>;

const CHAR: Record<Style, string> = {
  wait: GLYPH.wait,
  approval: GLYPH.approval,
  parked: GLYPH.parked,
  commit: GLYPH.commit,
  compensate: GLYPH.compensate,
  "compensate-failed": GLYPH.compensate,
  tool: GLYPH.tool,
  "tool-failed": GLYPH.tool,
  "tool-running": GLYPH.tool,
  "tool-cut": GLYPH.tool,
  test: GLYPH.test,
  "test-failed": GLYPH.test,
};

function paint(chalk: ChalkInstance, style: Style, text: string): string {
  switch (style) {
    case "wait":
      return chalk.dim(text);
    case "approval":
      return chalk.yellow(text);
    case "parked":
      return chalk.magenta(text);
    case "commit":
      return chalk.green.dim(text);
    case "compensate":
      return chalk.magenta(text);
    case "compensate-failed":
      return chalk.red(text);
    case "tool":
      return chalk.green(text);
    case "tool-failed":
      return chalk.red(text);
    case "tool-running":
      return chalk.blue(text);
    case "tool-cut":
      return chalk.yellow(text);
    case "test":
      return chalk.cyan(text);
    case "test-failed":
      return chalk.redBright(text);
  }
}

/** Fewest columns the bars get, however narrow the terminal: below that a bar says nothing. */
const MIN_BARS = 12;

export function renderTimelineText(timeline: Timeline, options: TimelineTextOptions): string {
  const { chalk } = options;
  const width = Math.max(40, options.width);
  // Steps this run did not select and never ran here draw no bar: counted, not listed.
  const rows = timeline.rows.filter((r) => !(r.carried && r.attempts.length === 0));
  const hidden = timeline.rows.length - rows.length;
  const lines = header(timeline, options.status, chalk, width);
  if (rows.length === 0) {
    lines.push(chalk.dim("no step ran in this run"));
    return lines.join("\n");
  }

  const suffixes = rows.map((r) => suffix(r));
  // reduce, not Math.max(...): a spread of 200 000 rows overflows the stack (100 000 does not, here).
  const suffixWidth = suffixes.reduce((most, s) => Math.max(most, s.length), 0);
  const longest = rows.reduce((most, r) => Math.max(most, [...r.step].length), 0);
  // The ids get up to a third of the line; the bars what is left.
  const idWidth = Math.max(4, Math.min(longest, Math.floor(width / 3), width - MIN_BARS - suffixWidth - 6));
  const prefixWidth = 2 + idWidth + 3; // "* " id " ✔ "
  const bars = Math.max(MIN_BARS, width - prefixWidth - 1 - suffixWidth);
  const span = Math.max(1, timeline.makespanMs);
  const scale = { bars, span };

  lines.push(...axis(timeline.ticks, scale, prefixWidth, chalk));
  const used = new Set<string>();
  rows.forEach((row, i) => {
    const id = elide(row.step, idWidth).padEnd(idWidth);
    const mark = row.critical ? chalk.bold.yellow(GLYPH.critical) : " ";
    const name = row.carried ? chalk.dim(id) : row.critical ? chalk.bold(id) : id;
    const cells = rowCells(row, scale, used);
    const after = suffixes[i]!;
    // A row with nothing after its bars ends at its last mark (no trailing blanks to wrap or copy).
    if (after === "") while (cells.length > 0 && cells[cells.length - 1] === undefined) cells.pop();
    const tail = after === "" ? "" : ` ${chalk.dim(after.padStart(suffixWidth))}`;
    lines.push(`${mark} ${name} ${stateMark(row.state, chalk)}${cells.length > 0 ? ` ${drawCells(cells, chalk)}` : ""}${tail}`);
  });
  if (hidden > 0) lines.push(chalk.dim(`(${hidden} step${hidden === 1 ? "" : "s"} not selected, not drawn)`));
  if (timeline.criticalPath.steps.length > 0) used.add("critical");
  lines.push(...legend(used, chalk, width));
  return lines.join("\n");
}

function header(t: Timeline, status: string | undefined, chalk: ChalkInstance, width: number): string[] {
  const running = t.status === "running" && status === undefined;
  const word = status ?? t.status;
  const colour = word === "passed" ? chalk.green : word === "running" ? chalk.cyan : word === "held" || word === "interrupted" ? chalk.yellow : chalk.red;
  const parts = [
    `${chalk.bold(t.wsId)}: ${colour(word)}`,
    `run ${t.runId}`,
    `${formatDuration(t.makespanMs)}${running ? " so far" : ""}`,
    `steps summed ${formatDuration(t.stepTimeMs)}${t.makespanMs > 0 && t.stepTimeMs > 0 ? ` (${t.speedup.toFixed(1)}× one at a time)` : ""}`,
    `${t.workers} worker${t.workers === 1 ? "" : "s"}`,
  ];
  const lines = wrapParts(parts, " · ", width);
  if (t.criticalPath.steps.length > 0) {
    const share = t.makespanMs > 0 ? ` of ${formatDuration(t.makespanMs)}` : "";
    lines.push(...wrapParts([`critical path ${formatDuration(t.criticalPath.ms)}${share}:`, ...t.criticalPath.steps.map((s, i) => (i === 0 ? s : `→ ${s}`))], " ", width));
  }
  return lines;
}

/** The tick labels and the axis line under them, starting at the bars' first column. */
function axis(ticks: readonly number[], scale: Scale, indent: number, chalk: ChalkInstance): string[] {
  const labels = Array.from({ length: scale.bars + 8 }, () => " ");
  const line = Array.from({ length: scale.bars }, () => "─");
  let free = 0;
  for (const tick of ticks) {
    const col = column(tick, scale);
    if (tick > scale.span) break;
    line[col] = "┬";
    const text = tick === 0 ? "0" : formatDuration(tick);
    // A label that would run into the one before, or past the line's end, is left out; its tick stays.
    if (col < free || col + text.length > scale.bars + 1) continue;
    [...text].forEach((ch, k) => (labels[col + k] = ch));
    free = col + text.length + 1;
  }
  const pad = " ".repeat(indent);
  return [chalk.dim(`${pad}${labels.join("").trimEnd()}`), chalk.dim(`${pad}${line.join("")}`)];
}

interface Scale {
  bars: number;
  span: number;
}

function column(ms: number, scale: Scale): number {
  return Math.min(scale.bars - 1, Math.max(0, Math.floor((ms / scale.span) * scale.bars)));
}

/** The columns [first, last] a stretch covers: at least one, so a short one still shows. */
function columns(start: number, end: number, scale: Scale): [number, number] {
  const first = column(start, scale);
  const last = Math.min(scale.bars - 1, Math.max(first, Math.ceil((end / scale.span) * scale.bars) - 1));
  return [first, last];
}

function rowCells(row: TimelineRow, scale: Scale, used: Set<string>): Array<Cell | undefined> {
  const cells: Array<Cell | undefined> = Array.from({ length: scale.bars }, () => undefined);
  const fill = (start: number, end: number, style: Style) => {
    const ch = CHAR[style];
    const [first, last] = columns(start, end, scale);
    for (let c = first; c <= last; c++) cells[c] = { ch, style };
  };
  // Waits, commits and compensation first: an attempt's bar drawn over them keeps its ends.
  for (const s of row.segments) {
    const wait = WAIT_STYLE[s.kind];
    if (wait) {
      if (s.end <= s.start) continue;
      fill(s.start, s.end, wait);
      used.add(wait);
    } else if (s.kind === "commit") {
      fill(s.start, s.end, "commit");
      used.add("commit");
    } else if (s.kind === "compensate") {
      fill(s.start, s.end, s.passed === false ? "compensate-failed" : "compensate");
      used.add("compensate");
    }
  }
  // Each attempt gets a column of its own past the one before it, so a retry never hides the
  // `x` of the short failed attempt it follows (at most a column later than its time).
  let after = -1;
  for (const bar of row.attempts) {
    const [at, to] = columns(bar.start, bar.end, scale);
    const first = Math.min(scale.bars - 1, Math.max(at, after + 1));
    const last = Math.max(first, to);
    after = last;
    const style = barStyle(bar);
    for (let c = first; c <= last; c++) cells[c] = { ch: CHAR[style], style };
    // A test draws inside the bar's ends: one that ends the attempt would otherwise fall under
    // its `]` and vanish, so it moves in a column (at most a column earlier than its time).
    const inner: [number, number] = [first + 1, last - 1];
    for (const test of bar.tests) {
      if (inner[0] > inner[1]) continue;
      used.add("test");
      const [from, until] = columns(test.start, test.end, scale);
      const tested: Style = test.passed === false ? "test-failed" : "test";
      const lo = Math.min(Math.max(from, inner[0]), inner[1]);
      for (let c = lo; c <= Math.max(lo, Math.min(until, inner[1])); c++) cells[c] = { ch: CHAR[tested], style: tested };
    }
    if (last > first) cells[first] = { ch: GLYPH.open, style };
    const end = bar.open ? GLYPH.running : bar.cut ? GLYPH.cut : bar.passed ? GLYPH.passed : GLYPH.failed;
    cells[last] = { ch: end, style };
    used.add("tool");
    used.add(bar.open ? "running" : bar.cut ? "cut" : bar.passed ? "passed" : "failed");
  }
  return cells;
}

function barStyle(bar: AttemptBar): Style {
  return bar.open ? "tool-running" : bar.cut ? "tool-cut" : bar.passed ? "tool" : "tool-failed";
}

function drawCells(cells: Array<Cell | undefined>, chalk: ChalkInstance): string {
  let text = "";
  let run = "";
  let style: Style | undefined;
  const flush = () => {
    if (run === "") return;
    text += style === undefined ? run : paint(chalk, style, run);
    run = "";
  };
  for (const cell of cells) {
    const next = cell?.style;
    if (next !== style) {
      flush();
      style = next;
    }
    run += cell?.ch ?? " ";
  }
  flush();
  return text;
}

/** Its duration, and how many attempts when it took more than one. */
function suffix(row: TimelineRow): string {
  if (row.attempts.length === 0) return row.state === "pending" ? "" : row.state;
  const tries = row.attempts.length > 1 ? ` ×${row.attempts.length}` : "";
  return `${formatDuration(row.durationMs)}${tries}`;
}

const LEGEND: Array<[string, string, Style | undefined]> = [
  ["tool", `${GLYPH.open}${GLYPH.tool}${GLYPH.tool}${GLYPH.passed} tool`, "tool"],
  ["test", `${GLYPH.test} tests`, "test"],
  ["commit", `${GLYPH.commit} commit`, "commit"],
  ["wait", `${GLYPH.wait} waiting (for a worker, the rate limit, its order, its worktree)`, "wait"],
  ["approval", `${GLYPH.approval} approval`, "approval"],
  ["parked", `${GLYPH.parked} parked (quota, breaker)`, "parked"],
  ["compensate", `${GLYPH.compensate} compensate`, "compensate"],
  ["failed", `${GLYPH.failed} failed attempt`, "tool-failed"],
  ["cut", `${GLYPH.cut} lost the race`, "tool-cut"],
  ["running", `${GLYPH.running} running`, "tool-running"],
  ["critical", `${GLYPH.critical} critical path`, undefined],
];

/** The characters this picture uses, and only those. */
function legend(used: Set<string>, chalk: ChalkInstance, width: number): string[] {
  const items = LEGEND.filter(([key]) => used.has(key)).map(([, full, style]) => {
    // Too long for the line: its words up to the brackets.
    const text = full.length > width ? full.replace(/ \(.*\)$/, "") : full;
    const [glyph = "", ...words] = text.split(" ");
    const coloured = style ? paint(chalk, style, glyph) : chalk.bold.yellow(glyph);
    return { text, shown: `${coloured} ${chalk.dim(words.join(" "))}` };
  });
  const lines: string[] = [];
  let line = "";
  let length = 0;
  for (const item of items) {
    if (length > 0 && length + 3 + item.text.length > width) {
      lines.push(line);
      line = "";
      length = 0;
    }
    line += (length > 0 ? "   " : "") + item.shown;
    length += (length > 0 ? 3 : 0) + item.text.length;
  }
  if (line) lines.push(line);
  return lines;
}

/** Parts joined by `sep`, broken into lines of at most `width` visible columns (colour codes do not count). */
function wrapParts(parts: string[], sep: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  let length = 0;
  for (const part of parts) {
    const size = visibleLength(part);
    if (length > 0 && length + sep.length + size > width) {
      lines.push(line);
      line = "";
      length = 0;
    }
    line += (length > 0 ? sep : "") + part;
    length += (length > 0 ? sep.length : 0) + size;
  }
  if (line) lines.push(line);
  return lines;
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;
const visibleLength = (text: string) => [...text.replace(SGR, "")].length;

/** An id in at most `width` columns: its start and end around `…`, as two ids cut to one prefix could not be told apart. */
function elide(id: string, width: number): string {
  const chars = [...id];
  if (chars.length <= width) return id;
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return `${chars.slice(0, head).join("")}…${tail > 0 ? chars.slice(-tail).join("") : ""}`;
}
