import type { Graph } from "./graph.js";

/**
 * Wave k holds the nodes whose longest dependency chain has k edges, in file order. Nodes on or
 * downstream of a cycle have no defined depth and are left out.
 */
export function waves(g: Graph): number[][] {
  const depth = new Array<number>(g.ids.length).fill(-1);
  const order = acyclicPart(g);
  let maxDepth = -1;
  for (const node of order) {
    let d = 0;
    for (const dep of g.deps[node]!) d = Math.max(d, depth[dep]! + 1);
    depth[node] = d;
    maxDepth = Math.max(maxDepth, d);
  }
  const result: number[][] = Array.from({ length: maxDepth + 1 }, () => []);
  depth.forEach((d, node) => {
    if (d >= 0) result[d]!.push(node);
  });
  return result;
}

/** A topological order of the nodes not on or downstream of a cycle (all nodes for a DAG). */
export function acyclicPart(g: Graph): number[] {
  const pending = g.deps.map((list) => list.length);
  const stack: number[] = [];
  for (let i = g.ids.length - 1; i >= 0; i--) if (pending[i] === 0) stack.push(i);
  const order: number[] = [];
  while (stack.length > 0) {
    const node = stack.pop()!;
    order.push(node);
    for (const next of g.dependents[node]!) {
      const left = pending[next]! - 1;
      pending[next] = left;
      if (left === 0) stack.push(next);
    }
  }
  return order;
}
