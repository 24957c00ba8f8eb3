import { STATE_MARKS } from "../format/state-marks.js";
import type { StepState } from "../events/run-event.js";
import { CRITICAL_COLOR, showsTools, STATE_COLORS, type GraphView } from "./graph-view.js";

/**
 * A `flowchart LR` that pastes into GitHub Markdown. Step ids may contain characters Mermaid
 * reads as syntax (`-`, `.`, or words like `end`), so every node gets a safe id (`s_…`, groups
 * `g_…`) and shows the real id as a quoted label.
 */
export function renderMermaid(view: GraphView): string {
  const ids = safeIds(view.nodes.map((n) => n.id), "s_");
  const groupIds = safeIds(view.groups.map((g) => g.id), "g_");
  const idOf = (stepId: string): string => ids.get(stepId) ?? `s_${sanitize(stepId)}`;
  const lines = ["flowchart LR"];
  const tools = showsTools(view);

  const nodeLine = (id: string, indent: string): string => {
    const node = view.nodes.find((n) => n.id === id);
    const mark = node?.state ? `${STATE_MARKS[node.state]} ` : "";
    const detail = node ? [tools ? node.tool : "", node.reason].filter(Boolean).join(" · ") : "";
    // Mermaid draws <br/> in a quoted label as a line break (GitHub included).
    return `${indent}${idOf(id)}["${escapeLabel(mark + (node?.label ?? id))}${detail ? `<br/>${escapeLabel(detail)}` : ""}"]`;
  };
  const grouped = new Set<string>();
  for (const group of view.groups) {
    // A node can sit in one subgraph only; it goes in the first group that names it.
    const members = group.steps.filter((id) => view.nodes.some((n) => n.id === id && n.group === group.id));
    lines.push(`  subgraph ${groupIds.get(group.id)}["${escapeLabel(group.label)}"]`);
    for (const id of members) {
      lines.push(nodeLine(id, "    "));
      grouped.add(id);
    }
    lines.push("  end");
  }
  for (const node of view.nodes) if (!grouped.has(node.id)) lines.push(nodeLine(node.id, "  "));

  const critical: number[] = [];
  view.edges.forEach((edge, i) => {
    lines.push(`  ${idOf(edge.from)} --> ${idOf(edge.to)}`);
    if (edge.critical) critical.push(i);
  });

  const byState = new Map<StepState, string[]>();
  for (const node of view.nodes) {
    if (!node.state) continue;
    const list = byState.get(node.state) ?? [];
    list.push(idOf(node.id));
    byState.set(node.state, list);
  }
  for (const [state, members] of byState) {
    const c = STATE_COLORS[state];
    lines.push(`  classDef ${state} fill:${c.fill},stroke:${c.stroke},color:${c.text}`);
    lines.push(`  class ${members.join(",")} ${state}`);
  }
  for (const node of view.nodes) {
    if (node.critical) lines.push(`  style ${idOf(node.id)} stroke:${CRITICAL_COLOR},stroke-width:4px`);
  }
  if (critical.length > 0) lines.push(`  linkStyle ${critical.join(",")} stroke:${CRITICAL_COLOR},stroke-width:4px`);
  return lines.join("\n") + "\n";
}

/** Mermaid-safe, collision-free ids, stable for a given list. */
function safeIds(names: string[], prefix: string): Map<string, string> {
  const result = new Map<string, string>();
  const used = new Set<string>();
  for (const name of names) {
    if (result.has(name)) continue;
    const base = prefix + sanitize(name);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    result.set(name, id);
  }
  return result;
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Inside a quoted label only `"` breaks out; Mermaid's entity code keeps it. */
function escapeLabel(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/[\r\n]+/g, " ");
}
