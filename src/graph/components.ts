import type { Graph } from "./graph.js";

/** Strongly connected components; a cycle of the graph lives inside one component. */
interface Components {
  /** node → component id. Ids are in completion order: a component's dependencies come first. */
  of: Int32Array;
  /** Component id → its nodes, ascending. */
  members: number[][];
  /** Component id → whether it contains a cycle (several nodes, or one that depends on itself). */
  cyclic: boolean[];
}

const computed = new WeakMap<Graph, Components>();

/**
 * The components of a graph, computed once: the cycle check and reachability both need them (at
 * 50 000 steps each pass is ~60 ms). Callers must not change what they get.
 */
export function componentsOf(g: Graph): Components {
  let components = computed.get(g);
  if (components === undefined) computed.set(g, (components = stronglyConnectedComponents(g)));
  return components;
}

/** Tarjan's algorithm, iterative so that a 10 000-step chain cannot overflow the call stack. */
function stronglyConnectedComponents(g: Graph): Components {
  const n = g.ids.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const edge = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const of = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const calls: number[] = [];
  const members: number[][] = [];
  const cyclic: boolean[] = [];
  let counter = 0;

  const enter = (v: number): void => {
    order[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    calls.push(v);
  };

  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    enter(root);
    while (calls.length > 0) {
      const v = calls[calls.length - 1]!;
      const deps = g.deps[v]!;
      const i = edge[v]!;
      if (i < deps.length) {
        edge[v] = i + 1;
        const w = deps[i]!;
        if (order[w] === -1) enter(w);
        else if (onStack[w]) low[v] = Math.min(low[v]!, order[w]!);
        continue;
      }
      calls.pop();
      const parent = calls[calls.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent]!, low[v]!);
      if (low[v] !== order[v]) continue;
      const id = members.length;
      const component: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        of[w] = id;
        component.push(w);
      } while (w !== v);
      // Nearly every component of a real workstream is one step: nothing to sort.
      if (component.length > 1) component.sort((a, b) => a - b);
      members.push(component);
      cyclic.push(component.length > 1 || deps.includes(v));
    }
  }
  return { of, members, cyclic };
}
