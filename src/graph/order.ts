import type { Graph } from "./graph.js";

/**
 * Kahn's algorithm with a ready set ordered by node index, so ties follow file order. Undefined
 * when the graph has a cycle.
 */
export function topologicalOrder(g: Graph): number[] | undefined {
  const n = g.ids.length;
  const pending = g.deps.map((list) => list.length);
  const ready = new MinHeap();
  for (let i = 0; i < n; i++) if (pending[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.size > 0) {
    const node = ready.pop();
    order.push(node);
    for (const next of g.dependents[node]!) {
      const left = pending[next]! - 1;
      pending[next] = left;
      if (left === 0) ready.push(next);
    }
  }
  return order.length === n ? order : undefined;
}

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

/** Binary min-heap of node indices; the ready set of Kahn's algorithm. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
