import { STATE_MARKS } from "../format/state-marks.js";
import { Chalk, type ChalkInstance } from "chalk";
import type { StepState } from "../events/run-event.js";
import { formatDuration } from "../format/duration.js";
import { showsTools, type GraphView, type ViewNode } from "./graph-view.js";

export interface AsciiOptions {
  color: boolean;
  /** Terminal columns; lines are wrapped to fit. */
  width: number;
}

/**
 * Waves top to bottom, one step per line, each followed by the steps it waits for (`← a, b`).
 * Drawn connectors were the alternative, but past ~10 steps they cross, tangle and overflow the
 * terminal; a dependency list stays one line per step at any size, can be grepped, and wraps
 * cleanly at any width. A step's dependencies are always in earlier waves, so reading downwards
 * follows the run.
 */
export function renderAscii(view: GraphView, options: AsciiOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = Math.max(40, options.width);
  const hasState = view.nodes.some((n) => n.state !== undefined);
  const hasDuration = view.nodes.some((n) => n.durationMs !== undefined);
  const deps = new Map<string, string[]>();
  for (const edge of view.edges) deps.set(edge.to, [...(deps.get(edge.to) ?? []), edge.from]);
  const nodeById = new Map(view.nodes.map((n) => [n.id, n]));

  const groupLabel = new Map(view.groups.map((g) => [g.id, g.label]));
  const tools = showsTools(view);
  const toolOf = (n: ViewNode): string => (tools ? ` ${n.tool}` : "");
  const nameOf = (n: ViewNode): string => n.label + (n.critical ? " *" : "") + (n.group ? ` [${groupLabel.get(n.group) ?? n.group}]` : "") + toolOf(n);
  // A loop, not Math.max(...names): spread arguments overflow the stack past ~120 000 steps.
  const nameWidth = Math.min(Math.floor(width / 2), view.nodes.reduce((max, n) => Math.max(max, nameOf(n).length), 0));
  const durationWidth = hasDuration ? 7 : 0;

  const out: string[] = [];
  out.push(c.bold(view.wsId) + (view.name && view.name !== view.wsId ? `  ${view.name}` : ""));
  const run = view.lastRun ? ` · last run ${view.lastRun.runId}: ${paint(c, view.lastRun.status === "held" ? "blocked" : view.lastRun.status === "rolled_back" ? "cancelled" : view.lastRun.status, view.lastRun.status)}` : " · never run";
  out.push(`${plural(view.nodes.length, "step")} in ${plural(view.waves.length, "wave")}${run}`);
  if (view.criticalPath.length > 0) {
    for (const text of wrap(`critical path (${c.magenta("*")}): `, view.criticalPath.join(" → ").split(" "), width, " ")) out.push(text);
  }

  const line = (node: ViewNode): string[] => {
    const mark = hasState ? `${node.state ? paint(c, node.state, STATE_MARKS[node.state]) : " "} ` : "";
    const name = nameOf(node);
    let head = "  " + mark + c.bold(node.label) + (node.critical ? c.magenta(" *") : "") + (node.group ? c.dim(` [${groupLabel.get(node.group) ?? node.group}]`) : "") + c.dim(toolOf(node));
    head += " ".repeat(Math.max(1, nameWidth - name.length + 2));
    if (hasDuration) head += (node.durationMs !== undefined ? formatDuration(node.durationMs) : "").padEnd(durationWidth);
    const list = deps.get(node.id) ?? [];
    // Why it did not pass, under the step: the first thing a reader of a failed graph looks for.
    const why = node.reason ? [`      ${node.state ? paint(c, node.state, node.reason) : node.reason}`] : [];
    if (list.length === 0) return [head.trimEnd(), ...why];
    const headWidth = 2 + (hasState ? 2 : 0) + Math.max(name.length + 1, nameWidth + 2) + durationWidth;
    const items = list.map((id, i) => (nodeById.get(id)?.critical && node.critical ? c.magenta(id) : id) + (i < list.length - 1 ? "," : ""));
    if (width - headWidth < 24) {
      // Too narrow for a second column: the list goes on its own lines, under the step.
      return [head.trimEnd(), ...wrap("      ← ", items, width, " "), ...why];
    }
    const wrapped = wrap("← ", items, width - headWidth, " ");
    return [...wrapped.map((text, i) => (i === 0 ? head : " ".repeat(headWidth)) + text), ...why];
  };

  view.waves.forEach((wave, k) => {
    out.push("");
    out.push(c.cyan(`wave ${k + 1}`) + c.dim(wave.length > 1 ? ` (${wave.length} steps)` : ""));
    for (const id of wave) {
      const node = nodeById.get(id);
      if (node) out.push(...line(node));
    }
  });
  const orphans = view.nodes.filter((n) => n.wave < 0);
  if (orphans.length > 0) {
    out.push("", c.yellow("on or after a cycle (no wave)"));
    for (const node of orphans) out.push(...line(node));
  }

  out.push("");
  const legend = hasState
    ? (Object.keys(STATE_MARKS) as StepState[]).map((s) => `${paint(c, s, STATE_MARKS[s])} ${s}`)
    : [];
  legend.push(`${c.magenta("*")} critical path`, "← waits for");
  out.push(...wrap("", legend.map((item, i) => item + (i < legend.length - 1 ? "  " : "")), width, ""));
  return out.join("\n") + "\n";
}

function paint(c: ChalkInstance, state: StepState, text: string): string {
  switch (state) {
    case "passed":
      return c.green(text);
    case "failed":
      return c.red(text);
    case "blocked":
      return c.yellow(text);
    case "running":
      return c.blue(text);
    case "pending":
    case "skipped":
    case "cancelled":
      return c.gray(text);
  }
}

/** Greedy word wrap of pre-coloured items; widths are measured without escape codes. */
function wrap(prefix: string, items: string[], width: number, sep: string): string[] {
  const lines: string[] = [];
  const indent = " ".repeat(visible(prefix).length);
  let current = prefix;
  let empty = true;
  for (const item of items) {
    const piece = (empty ? "" : sep) + item;
    if (!empty && visible(current + piece).trimEnd().length > width) {
      lines.push(current.trimEnd());
      current = indent + item;
    } else {
      current += piece;
    }
    empty = false;
  }
  lines.push(current.trimEnd());
  return lines;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function visible(text: string): string {
  return text.replace(ANSI, "");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
