import { componentsOf } from "./components.js";
import type { Graph } from "./graph.js";

/** Enough to show every mistake a person makes by hand; a generated mesh can have millions. */
export const MAX_CYCLES = 100;
/** Edge visits allowed to the enumeration before it settles for one cycle per component. */
const WORK_BUDGET = 1_000_000;

/**
 * Every elementary cycle, each as `[a, b, c]` meaning a depends on b, b on c, c on a, starting at
 * its lowest node (so rotations never repeat). Johnson's algorithm inside each strongly connected
 * component. Past `limit` cycles (or the work budget) enumeration stops, but every cyclic
 * component still yields at least one (shortest) cycle, so no cyclic part goes unreported.
 */
export function findCycles(g: Graph, limit = MAX_CYCLES): number[][] {
  const { of, members, cyclic } = componentsOf(g);
  const n = g.ids.length;
  const blocked = new Uint8Array(n);
  const blockedBy: number[][] = Array.from({ length: n }, () => []);
  const cycles: number[][] = [];
  let budget = WORK_BUDGET;

  const unblock = (start: number): void => {
    const work = [start];
    while (work.length > 0) {
      const u = work.pop()!;
      if (!blocked[u]) continue;
      blocked[u] = 0;
      work.push(...blockedBy[u]!);
      blockedBy[u] = [];
    }
  };

  const components = members
    .map((nodes, c) => ({ nodes, c }))
    .filter(({ c }) => cyclic[c])
    .sort((x, y) => x.nodes[0]! - y.nodes[0]!);

  for (const { nodes, c } of components) {
    const before = cycles.length;
    for (const s of nodes) {
      if (cycles.length >= limit || budget <= 0) break;
      // Johnson: search circuits through s using only nodes > s of this component.
      const inScope = (w: number): boolean => of[w] === c && w >= s;
      const touched: number[] = [s];
      const path = [s];
      const frames = [{ v: s, i: 0, found: false }];
      blocked[s] = 1;
      while (frames.length > 0 && cycles.length < limit && budget > 0) {
        const frame = frames[frames.length - 1]!;
        const deps = g.deps[frame.v]!;
        if (frame.i < deps.length) {
          const w = deps[frame.i++]!;
          budget--;
          if (!inScope(w)) continue;
          if (w === s) {
            cycles.push([...path]);
            frame.found = true;
          } else if (!blocked[w]) {
            blocked[w] = 1;
            touched.push(w);
            path.push(w);
            frames.push({ v: w, i: 0, found: false });
          }
          continue;
        }
        frames.pop();
        path.pop();
        if (frame.found) unblock(frame.v);
        else for (const w of deps) if (inScope(w) && !blockedBy[w]!.includes(frame.v)) blockedBy[w]!.push(frame.v);
        const parent = frames[frames.length - 1];
        if (parent !== undefined && frame.found) parent.found = true;
      }
      for (const w of touched) {
        blocked[w] = 0;
        blockedBy[w] = [];
      }
    }
    if (cycles.length === before) cycles.push(shortestCycle(g, nodes[0]!, (w) => of[w] === c));
  }
  return cycles;
}

/** Breadth-first search from `start` back to itself; `start` must be on a cycle. */
function shortestCycle(g: Graph, start: number, inComponent: (node: number) => boolean): number[] {
  const parent = new Map<number, number>();
  const queue = [start];
  for (let k = 0; k < queue.length; k++) {
    const v = queue[k]!;
    for (const w of g.deps[v]!) {
      if (w === start) {
        const cycle = [v];
        for (let u = v; u !== start; ) {
          u = parent.get(u)!;
          cycle.push(u);
        }
        return cycle.reverse();
      }
      if (!inComponent(w) || parent.has(w)) continue;
      parent.set(w, v);
      queue.push(w);
    }
  }
  throw new Error(`shortestCycle: node ${start} is not on a cycle`);
}
