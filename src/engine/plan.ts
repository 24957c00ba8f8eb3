import type { Workstream } from "../workstream/model.js";
import type { Graph } from "../graph/graph.js";
import { criticalPath } from "../graph/critical-path.js";
import { waves } from "../graph/order.js";
import type { History } from "../store/history.js";
import { stepWeights } from "../store/history.js";
import { idRecord } from "../id-record.js";

export interface Plan {
  waves: string[][];
  criticalPath: string[];
  /** ms; undefined unless every step in the run has a past duration. */
  criticalPathMs: number | undefined;
  totalWorkMs: number | undefined;
  /** Lower bound of the makespan: max(critical path, work / workers). */
  estimateMs: number | undefined;
  /** Expected duration of each selected step (ms), for weighted progress; undefined without history. */
  expectedMs: Record<string, number> | undefined;
  /** Each selected step's share of the overall progress when a step sets `weight` (see progressWeights); else expectedMs, or 1 each, weigh. */
  weights: Record<string, number> | undefined;
  maxWorkers: number;
  /** Ready-queue priority per node: the heaviest remaining path to a sink. */
  priority: number[];
}

export function planRun(ws: Workstream, graph: Graph, history: History, maxWorkers: number, selected?: ReadonlySet<number>): Plan {
  const { weights, known } = stepWeights(ws, history);
  const inRun = (i: number) => !selected || selected.has(i);
  const cp = criticalPath(graph, (i) => (inRun(i) ? (weights[i] ?? 0) : 0));
  const haveHistory = known.some(Boolean);
  // An estimate only from every step's own past: with one 131 ms step known and two 30 s steps
  // not, the fallback (the known mean) promised 262 ms for a 32 s resume.
  const everyKnown = known.every((k, i) => k || !inRun(i));
  const work = weights.reduce((sum, w, i) => sum + (inRun(i) ? w : 0), 0);
  let byWave: string[][] | undefined;
  return {
    // Only a dry run shows them; a run of 50 000 steps spent ~30 ms building them for nothing.
    get waves(): string[][] {
      return (byWave ??= waves(graph).map((wave) => wave.filter(inRun).map((i) => graph.ids[i] ?? String(i))).filter((w) => w.length > 0));
    },
    criticalPath: cp.path.filter(inRun).map((i) => graph.ids[i] ?? String(i)),
    criticalPathMs: everyKnown ? cp.length : undefined,
    totalWorkMs: everyKnown ? work : undefined,
    estimateMs: everyKnown ? Math.max(cp.length, work / Math.max(1, maxWorkers)) : undefined,
    expectedMs: haveHistory ? Object.fromEntries(graph.ids.flatMap((id, i) => (inRun(i) ? [[id, Math.round(weights[i] ?? 0)]] : []))) : undefined,
    weights: progressWeights(ws, weights, known, inRun),
    maxWorkers,
    priority: cp.remaining,
  };
}

/**
 * A step's share of the run's progress, against an average step (1): its `weight` when set,
 * else its past duration over the mean past duration of the steps that have one, else 1.
 */
function progressWeights(ws: Workstream, durations: number[], known: boolean[], inRun: (i: number) => boolean): Record<string, number> | undefined {
  // Without an explicit weight, expectedMs (or 1 each) says the same: no second map of every step in run-start.
  if (!ws.steps.some((step, i) => inRun(i) && step.weight !== undefined)) return undefined;
  const past = durations.filter((_, i) => known[i]);
  const mean = past.length > 0 ? past.reduce((a, b) => a + b, 0) / past.length : 0;
  const weights = idRecord<number>();
  ws.steps.forEach((step, i) => {
    if (!inRun(i)) return;
    const byHistory = known[i] && mean > 0 ? (durations[i] ?? 0) / mean : undefined;
    // A step that took no measurable time still counts for something, or its end moves nothing.
    weights[step.id] = step.weight ?? Math.max(0.01, byHistory ?? 1);
  });
  return weights;
}
