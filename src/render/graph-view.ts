import type { StepState } from "../events/run-event.js";
import type { Graph } from "../graph/graph.js";
import type { RunState, StepRecord } from "../store/run-state.js";
import { formatReason } from "../events/end-reason.js";
import type { Step, Workstream } from "../workstream/model.js";
import { formatDuration } from "../format/duration.js";

/**
 * What every renderer draws: the graph with ids instead of node indexes, the last run's states
 * and the critical path already decided, so ascii, mermaid, dot and json cannot disagree.
 */
export interface GraphView {
  wsId: string;
  name: string;
  nodes: ViewNode[];
  /** From dependency to dependent: `{from: "a", to: "b"}` means b runs after a. */
  edges: ViewEdge[];
  /** Step ids by wave (wave k: longest dependency chain of k edges), file order inside a wave. */
  waves: string[][];
  criticalPath: string[];
  groups: ViewGroup[];
  /** The run the states come from; absent when the workstream never ran. */
  lastRun?: { runId: string; status: RunState["status"]; startedAt: string } | undefined;
}

export interface ViewNode {
  id: string;
  /** Text to display. Kept apart from `id` because some formats must rewrite ids (mermaid). */
  label: string;
  state?: StepState | undefined;
  /** The first step group naming this step (a node can sit in only one cluster). */
  group?: string | undefined;
  critical: boolean;
  /** Index into `waves`; -1 for a step on or after a cycle (no defined wave). */
  wave: number;
  tool: string;
  /** Why the step did not pass in the last run (`exit:127`, `blocked_by:build`), printed form. */
  reason?: string | undefined;
  /** How long the step took in the last run. */
  durationMs?: number | undefined;
}

interface ViewEdge {
  from: string;
  to: string;
  critical: boolean;
}

interface ViewGroup {
  id: string;
  steps: string[];
  /** The id plus how the group decides, e.g. `checks (any, race, timeout 10m)`: what the cluster shows. */
  label: string;
}

interface GraphViewInput {
  workstream: Workstream;
  graph: Pick<Graph, "ids" | "deps">;
  /** `waves(graph)`. */
  waves: ReadonlyArray<ReadonlyArray<number>>;
  /** `criticalPath(graph, weight).path`. */
  criticalPath: ReadonlyArray<number>;
  state?: RunState | undefined;
}

export function buildGraphView(input: GraphViewInput): GraphView {
  const { workstream: ws, graph, state } = input;
  const idOf = (node: number): string => graph.ids[node] ?? String(node);
  const waveOf = new Map<number, number>();
  input.waves.forEach((wave, k) => wave.forEach((node) => waveOf.set(node, k)));
  const critical = new Set(input.criticalPath);
  const criticalEdges = new Set<string>();
  for (let i = 1; i < input.criticalPath.length; i++) {
    criticalEdges.add(`${input.criticalPath[i - 1]}>${input.criticalPath[i]}`);
  }
  const groupOf = new Map<string, string>();
  const groups: ViewGroup[] = [];
  for (const group of ws.stepGroups) {
    const steps = group.steps.filter((id) => graph.ids.includes(id));
    const how = [group.succeed === "any" ? "any" : undefined, group.cancelRest ? "race" : undefined, group.timeout !== undefined ? `timeout ${formatDuration(group.timeout * 1000)}` : undefined].filter(Boolean);
    groups.push({ id: group.id, steps, label: how.length > 0 ? `${group.id} (${how.join(", ")})` : group.id });
    for (const id of steps) if (!groupOf.has(id)) groupOf.set(id, group.id);
  }

  const nodes = graph.ids.map((id, node): ViewNode => {
    const record = state?.steps[id];
    return {
      id,
      // Every format shows the label: a step that runs after failures must not look like an ordinary one.
      label: nodeLabel(ws.steps[node]),
      state: record?.state,
      group: groupOf.get(id),
      critical: critical.has(node),
      wave: waveOf.get(node) ?? -1,
      tool: ws.steps[node]?.tool ?? "shell",
      reason: reasonOf(record),
      // A step that never started (skipped, blocked) records 0 ms; showing "0ms" would mislead.
      durationMs: record && record.attempts > 0 ? record.durationMs : undefined,
    };
  });
  const edges: ViewEdge[] = [];
  graph.deps.forEach((deps, to) => {
    for (const from of deps) {
      edges.push({ from: idOf(from), to: idOf(to), critical: criticalEdges.has(`${from}>${to}`) });
    }
  });
  return {
    wsId: ws.id,
    name: ws.name,
    nodes,
    edges,
    waves: input.waves.map((wave) => wave.map(idOf)),
    criticalPath: input.criticalPath.map(idOf),
    groups,
    lastRun: state ? { runId: state.runId, status: state.status, startedAt: state.startedAt } : undefined,
  };
}

/** Whether to print each node's tool: when every step uses the same one, a label saying so adds only noise. */
export function showsTools(view: Pick<GraphView, "nodes">): boolean {
  return new Set(view.nodes.map((n) => n.tool)).size > 1;
}

/** The reason worth printing: none for a passed step, nor one that only repeats the state. */
function reasonOf(record: StepRecord | undefined): string | undefined {
  if (!record?.reason || record.state === "passed") return undefined;
  const text = formatReason(record.reason);
  return text === record.state ? undefined : text;
}


/** Fill, border and text colours per state, shared by dot and mermaid so pictures match. */
export const STATE_COLORS: Record<StepState, { fill: string; stroke: string; text: string }> = {
  passed: { fill: "#d4edda", stroke: "#2e7d32", text: "#1b5e20" },
  failed: { fill: "#f8d7da", stroke: "#c62828", text: "#7f1d1d" },
  blocked: { fill: "#ffe5b4", stroke: "#e65100", text: "#6d2e00" },
  running: { fill: "#d6e9ff", stroke: "#1565c0", text: "#0d3c73" },
  pending: { fill: "#ffffff", stroke: "#757575", text: "#333333" },
  skipped: { fill: "#eeeeee", stroke: "#9e9e9e", text: "#616161" },
  cancelled: { fill: "#e0e0e0", stroke: "#616161", text: "#424242" },
};

/**
 * Purple, drawn thick: red already means "failed", and a failed step on the critical path must
 * show both, not one colour standing for either.
 */
export const CRITICAL_COLOR = "#6a1b9a";

/** "deploy (approval, if always)": what makes a step run differently from an ordinary one. */
function nodeLabel(step: Step | undefined): string {
  if (!step) return "";
  const marks = [step.approval ? "approval" : undefined, step.runIf !== "success" ? `if ${step.runIf}` : undefined].filter(Boolean);
  return marks.length > 0 ? `${step.id} (${marks.join(", ")})` : step.id;
}
