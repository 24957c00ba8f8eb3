import type { GraphView } from "./graph-view.js";

/**
 * The view as JSON for scripts. Keys are written in one fixed order (not the view's insertion
 * order) so the output diffs cleanly across versions.
 */
export function renderJson(view: GraphView): string {
  const doc = {
    wsId: view.wsId,
    name: view.name,
    lastRun: view.lastRun && { runId: view.lastRun.runId, status: view.lastRun.status, startedAt: view.lastRun.startedAt },
    nodes: view.nodes.map((n) => ({
      id: n.id,
      label: n.label,
      tool: n.tool,
      group: n.group,
      wave: n.wave,
      critical: n.critical,
      state: n.state,
      durationMs: n.durationMs,
    })),
    edges: view.edges.map((e) => ({ from: e.from, to: e.to, critical: e.critical })),
    waves: view.waves,
    criticalPath: view.criticalPath,
    groups: view.groups.map((g) => ({ id: g.id, steps: g.steps, label: g.label })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
