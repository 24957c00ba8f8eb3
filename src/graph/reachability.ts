import { stronglyConnectedComponents } from "./components.js";
import type { Graph } from "./graph.js";

export interface Reachability {
  /** True when `from` is a (transitive) dependency of `to`; `reaches(x, x)` only on a cycle. */
  reaches(from: number, to: number): boolean;
}

/**
 * Ancestor bitsets per strongly connected component, filled in dependency order: one pass of
 * word-wise ORs, ~n²/8 bytes (12.5 MB at 10 000 steps) for O(1) queries. Components make it
 * correct on cyclic graphs too, so the conflict check can run even when a cycle is reported.
 */
export function reachability(g: Graph): Reachability {
  const n = g.ids.length;
  if (n > BITSET_LIMIT) return walkingReachability(g);
  const { of, members, cyclic } = stronglyConnectedComponents(g);
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(members.length * words);
  members.forEach((nodes, c) => {
    const row = c * words;
    for (const node of nodes) {
      for (const dep of g.deps[node]!) {
        const d = of[dep]!;
        if (d === c) continue;
        const depRow = d * words;
        for (let k = 0; k < words; k++) bits[row + k]! |= bits[depRow + k]!;
        bits[row + (dep >>> 5)]! |= 1 << (dep & 31);
      }
    }
    if (cyclic[c]) for (const m of nodes) bits[row + (m >>> 5)]! |= 1 << (m & 31);
  });
  return {
    reaches(from: number, to: number): boolean {
      if (from < 0 || to < 0 || from >= n || to >= n) return false;
      return (bits[of[to]! * words + (from >>> 5)]! & (1 << (from & 31))) !== 0;
    },
  };
}

/** Above this many nodes the bitsets would take over 100 MB; queries then walk the graph instead. */
const BITSET_LIMIT = 30_000;

/** Slower fallback for huge graphs: each query's ancestor set, with a small cache per target. */
function walkingReachability(g: Graph): Reachability {
  const cache = new Map<number, Set<number>>();
  return {
    reaches(from: number, to: number): boolean {
      let found = cache.get(to);
      if (found === undefined) {
        if (cache.size >= 64) cache.clear();
        found = walk(g.deps, g.deps[to] ?? []);
        cache.set(to, found);
      }
      return found.has(from);
    },
  };
}

/** `roots` and every node that transitively depends on one of them. */
export function descendants(g: Graph, roots: number[]): Set<number> {
  return walk(g.dependents, roots);
}

/** `roots` and every node one of them transitively depends on. */
export function ancestors(g: Graph, roots: number[]): Set<number> {
  return walk(g.deps, roots);
}

function walk(edges: number[][], roots: number[]): Set<number> {
  const seen = new Set<number>(roots);
  const queue = [...seen];
  for (let i = 0; i < queue.length; i++) {
    for (const next of edges[queue[i]!] ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}
