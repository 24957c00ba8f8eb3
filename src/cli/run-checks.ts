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
  // The last run is read (its events folded, which grows with every run kept) only when asked
  // about: a resume, or a selection that leaves dependencies out. A whole run needs neither.
  const last = selection.resume ? lastRun(cwd, ws.id)?.state : undefined;
  const selected = selectSteps(ws, graph, selection, last);
  // An unknown step is the engine's refusal to word; nothing to add here.
  if (!(selected instanceof Set)) return { unmet: [], skipped: [], missingTools: [] };
  const whole = selected.size === graph.ids.length;
  const unmet = (whole ? [] : unmetDependencies(ws, graph, selected, selection.resume ? last : lastRun(cwd, ws.id)?.state)).map(({ step, missing }) => {
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
