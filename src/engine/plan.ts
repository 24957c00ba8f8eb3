import type { Workstream } from "../workstream/model.js";
import type { Graph } from "../graph/graph.js";
import { criticalPath } from "../graph/critical-path.js";
import { waves } from "../graph/order.js";
import { withGroupOrder } from "../graph/group-order.js";
import { simulateRun } from "../graph/simulate.js";
import { findScopeConflicts } from "../graph/conflicts.js";
import type { History, RunOverhead } from "../store/history.js";
import { runOverhead, stepWeights } from "../store/history.js";
import { idRecord } from "../id-record.js";

export interface Plan {
  waves: string[][];
  criticalPath: string[];
  /** ms; undefined unless every step in the run has a past duration. */
  criticalPathMs: number | undefined;
  totalWorkMs: number | undefined;
  /** The run played on a virtual clock (graph/simulate.ts) with the steps' past durations and ws's measured overhead. */
  estimateMs: number | undefined;
  /** The overhead the estimate adds (history's median of the last runs); undefined before one was measured. */
  overheadMs: RunOverhead | undefined;
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
  // A sequential group's order is part of the path: its members run one after another.
  const ordered = withGroupOrder(ws, graph);
  const cp = criticalPath(ordered, (i) => (inRun(i) ? (weights[i] ?? 0) : 0));
  const haveHistory = known.some(Boolean);
  // An estimate only from every step's own past: with one 131 ms step known and two 30 s steps
  // not, the fallback (the known mean) promised 262 ms for a 32 s resume.
  const everyKnown = known.every((k, i) => k || !inRun(i));
  const work = weights.reduce((sum, w, i) => sum + (inRun(i) ? w : 0), 0);
  const overhead = runOverhead(history);
  let byWave: string[][] | undefined;
  return {
    // Only a dry run shows them; a run of 50 000 steps spent ~30 ms building them for nothing.
    get waves(): string[][] {
      return (byWave ??= waves(ordered).map((wave) => wave.filter(inRun).map((i) => graph.ids[i] ?? String(i))).filter((w) => w.length > 0));
    },
    criticalPath: cp.path.filter(inRun).map((i) => graph.ids[i] ?? String(i)),
    criticalPathMs: everyKnown ? cp.length : undefined,
    totalWorkMs: everyKnown ? work : undefined,
    estimateMs: everyKnown ? simulatedMs(ws, graph, weights, inRun, maxWorkers, cp.remaining, overhead) : undefined,
    overheadMs: overhead,
    expectedMs: haveHistory ? Object.fromEntries(graph.ids.flatMap((id, i) => (inRun(i) ? [[id, Math.round(weights[i] ?? 0)]] : []))) : undefined,
    weights: progressWeights(ws, weights, known, inRun),
    maxWorkers,
    priority: cp.remaining,
  };
}

/**
 * The makespan the scheduler would reach with these durations: the critical path and work over
 * workers are lower bounds that miss a sequential group (4 steps, 542 ms estimated, 2.1 s taken),
 * a group's max_workers and file_conflicts "serialize"; the simulation plays them all, with ws's
 * own time per step and per run (measured by the last runs) on top of the steps' own.
 */
function simulatedMs(ws: Workstream, graph: Graph, durations: number[], inRun: (i: number) => boolean, workers: number, priority: number[], overhead: RunOverhead | undefined): number {
  const perStep = overhead?.stepMs ?? 0;
  const simulation = simulateRun({
    deps: graph.deps,
    selected: inRun,
    // A step whose `when` is false is skipped at once: no worktree, no time.
    durationMs: (i) => (ws.steps[i]?.when?.value === false ? 0 : (durations[i] ?? 0) + perStep),
    workers,
    priority,
    groups: ws.stepGroups.map((g) => ({ members: g.steps.map((id) => graph.index.get(id)).filter((i): i is number => i !== undefined), sequential: g.execute === "sequential", maxWorkers: g.maxWorkers })),
    exclusive: ws.execution.fileConflicts === "serialize" ? findScopeConflicts(ws, graph).map((c) => [c.a, c.b] as const) : undefined,
    rateLimitMs: ws.execution.rateLimitDelay * 1000,
  });
  return Math.round(simulation.makespanMs + (overhead?.runMs ?? 0));
}

/**
 * A step's share of the run's progress, against an average step (1): its `weight` when set, else
 * its past duration over the mean past duration of the steps that have one, else (a first run)
 * the structure's: a step group counts as one step, its share split among its members, as seed
 * 003 reports it (init 33 %, three parallel workers 11.11 % each, the merge 33 %).
 */
function progressWeights(ws: Workstream, durations: number[], known: boolean[], inRun: (i: number) => boolean): Record<string, number> | undefined {
  const explicit = ws.steps.some((step, i) => inRun(i) && step.weight !== undefined);
  const firstRun = !known.some((k, i) => k && inRun(i));
  const structure = firstRun ? groupShares(ws, inRun) : undefined;
  // Without an explicit weight or a group, expectedMs (or 1 each) says the same: no second map of every step in run-start.
  if (!explicit && !structure) return undefined;
  const past = durations.filter((_, i) => known[i]);
  const mean = past.length > 0 ? past.reduce((a, b) => a + b, 0) / past.length : 0;
  const weights = idRecord<number>();
  ws.steps.forEach((step, i) => {
    if (!inRun(i)) return;
    const byHistory = known[i] && mean > 0 ? (durations[i] ?? 0) / mean : undefined;
    // A step that took no measurable time still counts for something, or its end moves nothing.
    weights[step.id] = step.weight ?? Math.max(0.01, byHistory ?? structure?.get(i) ?? 1);
  });
  return weights;
}

/** Node → 1 / (selected members of its first group); undefined when no group has a selected member. */
function groupShares(ws: Workstream, inRun: (i: number) => boolean): Map<number, number> | undefined {
  // The first step of an id, as the graph's index keeps it.
  const index = new Map<string, number>();
  ws.steps.forEach((step, i) => index.has(step.id) || index.set(step.id, i));
  const shares = new Map<number, number>();
  for (const group of ws.stepGroups) {
    const members = [...new Set(group.steps.map((id) => index.get(id)).filter((i): i is number => i !== undefined && inRun(i) && !shares.has(i)))];
    for (const m of members) shares.set(m, 1 / members.length);
  }
  return shares.size > 0 ? shares : undefined;
}
