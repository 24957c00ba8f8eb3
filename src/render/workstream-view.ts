import { stepWeights } from "../engine/plan.js";
import { criticalPath } from "../graph/critical-path.js";
import { buildGraph } from "../graph/graph.js";
import { waves } from "../graph/order.js";
import { readHistory } from "../store/history.js";
import { wsPaths } from "../store/paths.js";
import type { RunState } from "../store/run-state.js";
import { loadRunState } from "../store/snapshot.js";
import type { Workstream } from "../workstream/model.js";
import { buildGraphView, type GraphView } from "./graph-view.js";

/** The graph as every picture of it shows it: waves, last states, and the critical path. */
export function workstreamView(workstream: Workstream, cwd: string, state?: RunState): GraphView {
  const paths = wsPaths(cwd, workstream.id);
  const graph = buildGraph(workstream);
  const { weights } = stepWeights(workstream, readHistory(paths.history));
  return buildGraphView({
    workstream,
    graph,
    waves: waves(graph),
    // The same weights as the scheduler's priority, so this path is the one `ws run` favours.
    criticalPath: criticalPath(graph, (node) => weights[node] ?? 0).path,
    state: state ?? loadRunState(paths),
  });
}
