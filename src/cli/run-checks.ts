import { buildGraph } from "../graph/graph.js";
import { selectSteps, unmetDependencies, type Selection } from "../engine/select.js";
import { lastRun } from "../store/query.js";
import { findMissingTools } from "../tools/registry.js";
import type { Workstream } from "../workstream/model.js";

/** What a run (or its dry run) should be told before it starts, in the words of the command line. */
export interface RunChecks {
  /** `--only lint` without build, when build has no passed result. */
  unmet: string[];
  /** Selected steps whose `when` is false: they will be skipped. */
  skipped: string[];
  missingTools: ReturnType<typeof findMissingTools>;
}

export function checkRun(cwd: string, ws: Workstream, selection: Selection & { resume?: boolean | undefined }, env: NodeJS.ProcessEnv): RunChecks {
  const graph = buildGraph(ws);
  // The last run is read only when it can matter: a resume, or a selection that leaves
  // dependencies out (reading it is reading the run's state, or folding its whole event log).
  let last: ReturnType<typeof lastRun> | null = null;
  const lastState = () => (last ??= lastRun(cwd, ws.id))?.state;
  const selected = selectSteps(ws, graph, selection, selection.resume ? lastState() : undefined);
  // An unknown step is the engine's refusal to word; nothing to add here.
  if (!(selected instanceof Set)) return { unmet: [], skipped: [], missingTools: [] };
  const unmet = (selected.size < graph.ids.length ? unmetDependencies(ws, graph, selected, lastState()) : []).map(({ step, missing }) => {
    const list = missing.join(", ");
    return `${step} runs without ${list}: ${missing.length === 1 ? "it is" : "they are"} not selected and ${missing.length === 1 ? "has" : "have"} not passed in the last run (--with-deps runs ${missing.length === 1 ? "it" : "them"} too)`;
  });
  const steps = ws.steps.filter((_, i) => selected.has(i));
  return {
    unmet,
    skipped: steps.filter((s) => s.when?.value === false).map((s) => `${s.id} (when: ${s.when?.source ?? ""})`),
    missingTools: findMissingTools(ws, steps.filter((s) => s.when?.value !== false), env),
  };
}
