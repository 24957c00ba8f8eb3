import type { Graph } from "../graph/graph.js";
import { buildGraph } from "../graph/graph.js";
import { descendants } from "../graph/reachability.js";
import { readHistory } from "../store/history.js";
import { wsPaths } from "../store/paths.js";
import type { RunState } from "../store/run-state.js";
import type { Workstream } from "../workstream/model.js";
import { suggestOrList } from "../workstream/suggest.js";
import { planRun, type Plan } from "./plan.js";

export interface Selection {
  only?: string[] | undefined;
  from?: string | undefined;
}

/** A selection naming a step the workstream does not have: `option` is the Selection field. */
export interface UnknownStep {
  kind: "unknown_step";
  option: keyof Selection;
  id: string;
  suggestion: string;
}

/** Nodes a run will try: `only`, then `from`'s descendants, minus what a resumed run already passed. */
export function selectSteps(ws: Workstream, graph: Graph, selection: Selection, previous?: RunState): Set<number> | UnknownStep {
  let unknown: UnknownStep | undefined;
  const nodeOf = (id: string, option: keyof Selection): number => {
    const node = graph.index.get(id);
    if (node === undefined) unknown ??= { kind: "unknown_step", option, id, suggestion: suggestOrList(id, graph.ids, "the workstream has no steps") };
    return node ?? -1;
  };
  let selected = new Set(graph.ids.map((_, i) => i));
  if (selection.only && selection.only.length > 0) selected = new Set(selection.only.map((id) => nodeOf(id, "only")));
  if (selection.from !== undefined) {
    const from = nodeOf(selection.from, "from");
    const fromSet = from < 0 ? new Set<number>() : descendants(graph, [from]);
    selected = new Set([...selected].filter((i) => fromSet.has(i)));
  }
  if (unknown) return unknown;
  if (previous) {
    for (const i of [...selected]) if (previous.steps[graph.ids[i] ?? ""]?.state === "passed") selected.delete(i);
  }
  return selected;
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
