import { criticalPath } from "../graph/critical-path.js";
import { buildGraph } from "../graph/graph.js";
import { waves } from "../graph/order.js";
import { withGroupOrder } from "../graph/group-order.js";
import { readHistory, stepWeights } from "../store/history.js";
import { wsPaths } from "../store/paths.js";
import type { RunState } from "../store/run-state.js";
import { loadRunState } from "../store/snapshot.js";
import type { Workstream } from "../workstream/model.js";
import { buildGraphView, type GraphView } from "./graph-view.js";

/**
 * Weights for the critical path of a drawn run: what a step actually took when it ran, nothing
 * for a step that did not run and will not in this run (skipped, blocked: drawing the path
 * through a 9 ms blocked step over a passed 1 s one misleads), the estimate for the rest.
 */
export function drawnWeights(workstream: Workstream, estimates: number[], state: RunState | undefined): number[] {
  return workstream.steps.map((step, node) => {
    const record = state?.steps[step.id];
    const estimate = estimates[node] ?? 0;
    if (!record) return estimate;
    if (record.attempts > 0 && record.state !== "running" && record.durationMs !== undefined) return record.durationMs;
    if (record.state === "skipped" || record.state === "blocked") return 0;
    return estimate;
  });
}

/** The graph as every picture of it shows it: waves, last states, and the critical path. */
export function workstreamView(workstream: Workstream, cwd: string, state?: RunState): GraphView {
  const paths = wsPaths(cwd, workstream.id);
  const graph = buildGraph(workstream);
  const run = state ?? loadRunState(paths);
  // Without a run, the same weights as the scheduler's priority: the path `ws run` favours.
  const { weights: estimates } = stepWeights(workstream, readHistory(paths.history));
  const weights = drawnWeights(workstream, estimates, run);
  // Through a sequential group's order too, as the plan's: its members run one after another.
  const ordered = withGroupOrder(workstream, graph);
  const path = criticalPath(ordered, (node) => weights[node] ?? 0).path;
  // Steps that took no time at either end add nothing to the path; drawn, they would look critical.
  let first = 0;
  let last = path.length - 1;
  while (first <= last && (weights[path[first]!] ?? 0) === 0) first++;
  while (last >= first && (weights[path[last]!] ?? 0) === 0) last--;
  // A sequential group's members each in a wave of their own, in the group's order: how they run.
  return buildGraphView({ workstream, graph, waves: waves(ordered), criticalPath: path.slice(first, last + 1), state: run });
}
