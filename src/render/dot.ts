import { STATE_MARKS } from "../format/state-marks.js";
import { formatDuration } from "../format/duration.js";
import { CRITICAL_COLOR, showsTools, STATE_COLORS, type GraphView, type ViewNode } from "./graph-view.js";

/**
 * The font named in the DOT source. The PNG renderer loads the same font file, so Graphviz's
 * layout widths match the glyphs actually drawn.
 */
export const FONT_NAME = "DejaVu Sans";

export function renderDot(view: GraphView): string {
  const title = view.criticalPath.length > 0 ? `${view.wsId}  (critical path: thick purple)` : view.wsId;
  const lines = [
    `digraph ${quote(view.wsId)} {`,
    `  graph [rankdir=LR, fontname=${quote(FONT_NAME)}, fontsize=12, label=${quote(title)}, labelloc=t, nodesep=0.3, ranksep=0.6, bgcolor="white"];`,
    `  node [shape=box, style="rounded,filled", fontname=${quote(FONT_NAME)}, fontsize=11, fillcolor="#ffffff", color="#757575"];`,
    `  edge [color="#888888", arrowsize=0.7];`,
  ];
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const tools = showsTools(view);
  const grouped = new Set<string>();
  view.groups.forEach((group, i) => {
    const members = group.steps.filter((id) => byId.get(id)?.group === group.id);
    lines.push(`  subgraph ${quote(`cluster_${i}`)} {`);
    lines.push(`    graph [label=${quote(group.label)}, style="rounded,dashed", color="#9e9e9e"];`);
    for (const id of members) {
      lines.push(`    ${nodeStatement(byId.get(id)!, tools)}`);
      grouped.add(id);
    }
    lines.push("  }");
  });
  for (const node of view.nodes) if (!grouped.has(node.id)) lines.push(`  ${nodeStatement(node, tools)}`);
  for (const edge of view.edges) {
    const attrs = edge.critical ? ` [color=${quote(CRITICAL_COLOR)}, penwidth=3]` : "";
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${attrs};`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function nodeStatement(node: ViewNode, tools: boolean): string {
  const detail = [node.state ? `${STATE_MARKS[node.state]} ${node.state}` : "", node.durationMs !== undefined ? formatDuration(node.durationMs) : ""]
    .filter(Boolean)
    .join(" · ");
  const lines = [node.label, detail, [tools ? node.tool : "", node.reason].filter(Boolean).join(" · ")].filter(Boolean);
  const attrs = [`label=${quote(lines.join("\n"))}`];
  const c = node.state ? STATE_COLORS[node.state] : undefined;
  if (c) attrs.push(`fillcolor=${quote(c.fill)}`, `fontcolor=${quote(c.text)}`);
  if (node.critical) attrs.push(`color=${quote(CRITICAL_COLOR)}`, "penwidth=3");
  else if (c) attrs.push(`color=${quote(c.stroke)}`);
  if (node.state === "skipped") attrs.push(`style="rounded,filled,dashed"`);
  return `${quote(node.id)} [${attrs.join(", ")}];`;
}

/**
 * A DOT double-quoted string. Only `\"` is an escape to the DOT lexer, but labels also expand
 * `\n`, `\l`, `\N`…, so a backslash is doubled and a real newline becomes the `\n` escape.
 */
export function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}
