import type { Workstream } from "../workstream/model.js";

/** The dependency graph of a workstream; a node is a step's index in file order. */
export interface Graph {
  /** Step ids in file order; a node is its index. */
  ids: string[];
  index: ReadonlyMap<string, number>;
  /** Direct dependencies (group ids expanded, unknown ids dropped, deduped, sorted). */
  deps: number[][];
  /** Reverse of deps (sorted). */
  dependents: number[][];
}

/** One graph per workstream: nothing changes a workstream once it is normalized. */
const built = new WeakMap<Workstream, Graph>();

/**
 * Builds the graph without judging it: the checks in check.ts report duplicates, unknown ids and
 * clashes, so this never throws. A duplicate step id keeps its first occurrence in `index`; the
 * later duplicate is still a node (it runs), but nothing can name it.
 *
 * The graph is shared by everything that asks for the same workstream (the graph checks, the
 * output-reference check, selection, run checks, the engine: five builds of 50 000 steps per
 * `ws run` before), so callers must not change it; checkGroupOrder copies what it extends.
 */
export function buildGraph(ws: Workstream): Graph {
  let g = built.get(ws);
  if (g === undefined) built.set(ws, (g = build(ws)));
  return g;
}

function build(ws: Workstream): Graph {
  const ids = ws.steps.map((step) => step.id);
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    if (!index.has(id)) index.set(id, i);
  });
  const groups = groupMembers(ws, index);
  const deps = ws.steps.map((step) => {
    // Most steps name one step or none: no Set, no sort (50 000 of each in a big workstream).
    if (step.dependsOn.length === 0) return [];
    const only = step.dependsOn.length === 1 ? index.get(step.dependsOn[0]!) : undefined;
    if (only !== undefined) return [only];
    const set = new Set<number>();
    for (const name of step.dependsOn) {
      const node = index.get(name);
      if (node !== undefined) set.add(node);
      // A step id wins over a group of the same name (that clash is reported separately).
      else for (const member of groups.get(name) ?? []) set.add(member);
    }
    return [...set].sort((a, b) => a - b);
  });
  const dependents: number[][] = ids.map(() => []);
  deps.forEach((list, node) => {
    for (const dep of list) dependents[dep]!.push(node);
  });
  return { ids, index, deps, dependents };
}

/** Each group id → the nodes of its known members, in the group's list order, deduped. */
export function groupMembers(ws: Workstream, index: ReadonlyMap<string, number>): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const group of ws.stepGroups) {
    if (groups.has(group.id)) continue;
    const members: number[] = [];
    for (const id of group.steps) {
      const node = index.get(id);
      if (node !== undefined && !members.includes(node)) members.push(node);
    }
    groups.set(group.id, members);
  }
  return groups;
}
