import type { Workstream } from "../workstream/model.js";
import type { Graph } from "./graph.js";

const ordered = new WeakMap<Graph, Graph>();

/**
 * The graph as a run orders it: depends_on, plus an edge from each member of a sequential group
 * to the one listed after it (admission starts a member only once those before it ended). Waves,
 * the critical path and the estimate read this one: with depends_on alone, a sequential group's
 * members shared one wave and its critical path was a single member. A sequential order that
 * contradicts depends_on is a validation error (check.ts), so no cycle comes from these edges.
 * Pictures still draw only depends_on as edges; a member's wave shows its turn.
 */
export function withGroupOrder(ws: Workstream, g: Graph): Graph {
  if (!ws.stepGroups.some((group) => group.execute === "sequential")) return g;
  let result = ordered.get(g);
  if (result) return result;
  const deps = g.deps.map((list) => [...list]);
  for (const group of ws.stepGroups) {
    if (group.execute !== "sequential") continue;
    const members = group.steps.map((id) => g.index.get(id)).filter((node): node is number => node !== undefined);
    for (let k = 1; k < members.length; k++) {
      const [before, node] = [members[k - 1]!, members[k]!];
      if (before !== node && !deps[node]!.includes(before)) deps[node]!.push(before);
    }
  }
  for (const list of deps) list.sort((a, b) => a - b);
  const dependents: number[][] = g.ids.map(() => []);
  deps.forEach((list, node) => {
    for (const dep of list) dependents[dep]!.push(node);
  });
  ordered.set(g, (result = { ids: g.ids, index: g.index, deps, dependents }));
  return result;
}
