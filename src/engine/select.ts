import type { Graph } from "../graph/graph.js";
import { buildGraph } from "../graph/graph.js";
import { ancestors, descendants } from "../graph/reachability.js";
import { readHistory } from "../store/history.js";
import { wsPaths } from "../store/paths.js";
import { isUndone, type RunState } from "../store/run-state.js";
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
    const done: number[] = [];
    for (const i of [...selected]) {
      const record = previous.steps[graph.ids[i] ?? ""];
      // An undone step (compensated by a rollback) left nothing on the branch: it runs again.
      if (record?.state !== "passed" || isUndone(record)) continue;
      selected.delete(i);
      done.push(i);
    }
    rerunStaleHandlers(ws, graph, selected, done);
  }
  return selected;
}

/**
 * A `run_if: always`/`failure` step judged what its dependencies did: a report over checks that a
 * Ctrl-C cancelled passed, and would stand over the checks the resume runs again. Such a step goes
 * again when anything upstream of it runs again (its view of them may change); a `failure` step
 * without depends_on watches the whole run, so it goes again when any step does. Steps that
 * passed are `done`; what is taken back goes into `selected`.
 */
function rerunStaleHandlers(ws: Workstream, graph: Graph, selected: Set<number>, done: readonly number[]): void {
  // A success_or_skipped join judged only passes, like a plain step: what passed stays passed.
  const handlers = done.filter((i) => ws.steps[i]?.runIf === "always" || ws.steps[i]?.runIf === "failure");
  if (handlers.length === 0 || selected.size === 0) return;
  // One walk from what runs again: a handler taken back is downstream of it, so is whatever follows.
  const downstream = descendants(graph, [...selected]);
  for (const i of handlers) {
    const watchesAll = ws.steps[i]?.runIf === "failure" && (graph.deps[i] ?? []).length === 0;
    if (watchesAll || downstream.has(i)) selected.add(i);
  }
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
      .filter((id) => {
        const record = last?.steps[id];
        return record?.state !== "passed" || isUndone(record);
      });
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
