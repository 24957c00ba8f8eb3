import type { Graph } from "../graph/graph.js";
import { buildGraph } from "../graph/graph.js";
import { ancestors, descendants } from "../graph/reachability.js";
import { readHistory } from "../store/history.js";
import { wsPaths } from "../store/paths.js";
import type { RunState } from "../store/run-state.js";
import type { Workstream } from "../workstream/model.js";
import { suggestOrList } from "../workstream/suggest.js";
import { planRun, type Plan } from "./plan.js";

export interface Selection {
  only?: string[] | undefined;
  from?: string | undefined;
  /** Also select every step the chosen ones depend on, transitively. */
  withDeps?: boolean | undefined;
}

/** A selection naming a step the workstream does not have: `option` is the Selection field. */
export interface UnknownStep {
  kind: "unknown_step";
  option: "only" | "from";
  id: string;
  suggestion: string;
}

/** Nodes a run will try: `only`, then `from`'s descendants, minus what a resumed run already passed. */
export function selectSteps(ws: Workstream, graph: Graph, selection: Selection, previous?: RunState): Set<number> | UnknownStep {
  let unknown: UnknownStep | undefined;
  const nodeOf = (id: string, option: UnknownStep["option"]): number => {
    const node = graph.index.get(id);
    if (node === undefined) unknown ??= { kind: "unknown_step", option, id, suggestion: suggestOrList(id, graph.ids, "the workstream has no steps") };
    return node ?? -1;
  };
  // Every step only without --only: a Set of 50 000 built and dropped cost a 3-step run ~15 ms twice.
  let selected = selection.only && selection.only.length > 0 ? new Set(selection.only.map((id) => nodeOf(id, "only"))) : new Set(graph.ids.map((_, i) => i));
  if (selection.from !== undefined) {
    const from = nodeOf(selection.from, "from");
    const fromSet = from < 0 ? new Set<number>() : descendants(graph, [from]);
    selected = new Set([...selected].filter((i) => fromSet.has(i)));
  }
  if (unknown) return unknown;
  if (selection.withDeps) selected = ancestors(graph, [...selected]);
  if (previous) {
    for (const i of [...selected]) if (previous.steps[graph.ids[i] ?? ""]?.state === "passed") selected.delete(i);
  }
  return selected;
}

/** A selected step whose dependency is neither selected nor passed in the last run. */
export interface UnmetDependency {
  step: string;
  missing: string[];
}

/**
 * Selected steps that would run on nothing: `--only lint` without `build`, when build has no
 * passed result to stand on. Skipped steps (a false `when`) count as met: they never produce one.
 */
export function unmetDependencies(ws: Workstream, graph: Graph, selected: ReadonlySet<number>, last: RunState | undefined): UnmetDependency[] {
  const out: UnmetDependency[] = [];
  for (const node of [...selected].sort((a, b) => a - b)) {
    const missing = (graph.deps[node] ?? [])
      .filter((dep) => !selected.has(dep) && ws.steps[dep]?.when?.value !== false)
      .map((dep) => graph.ids[dep] ?? "")
      .filter((id) => last?.steps[id]?.state !== "passed");
    if (missing.length > 0) out.push({ step: graph.ids[node] ?? "", missing });
  }
  return out;
}

/** Workers for a run: the override (a command-line count) wins over the file, never below 1. */
export function workerCount(ws: Workstream, override: number | undefined): number {
  return Math.max(1, override ?? ws.execution.maxWorkers);
}

/** For a dry run: the plan without running anything. */
export function dryRun(cwd: string, ws: Workstream, selection: Selection, maxWorkers?: number): { plan: Plan; selected: string[] } | UnknownStep {
  const graph = buildGraph(ws);
  const selected = selectSteps(ws, graph, selection);
  if (!(selected instanceof Set)) return selected;
  const plan = planRun(ws, graph, readHistory(wsPaths(cwd, ws.id).history), workerCount(ws, maxWorkers), selected);
  return { plan, selected: [...selected].map((i) => graph.ids[i] ?? "") };
}
