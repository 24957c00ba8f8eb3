import { buildGraph } from "../../src/graph/graph.js";
import { criticalPath } from "../../src/graph/critical-path.js";
import { waves } from "../../src/graph/order.js";
import type { StepState } from "../../src/events/run-event.js";
import { buildGraphView, type GraphView } from "../../src/render/graph-view.js";
import type { RunState } from "../../src/store/run-state.js";
import type { Workstream } from "../../src/workstream/model.js";
import { rawStep, workstreamOf } from "../helpers/workstream.js";

export interface StepSpec {
  id: string;
  deps?: string[];
  tool?: string;
}

/** A Workstream through the real normalizer, named `${id} name`. */
export function makeWorkstream(id: string, specs: StepSpec[], groups: Array<{ id: string; steps: string[] }> = []): Workstream {
  return workstreamOf(
    {
      id,
      name: `${id} name`,
      execution: { isolation: "none" },
      steps: specs.map((spec) => rawStep({ id: spec.id, tool: spec.tool, dependsOn: spec.deps })),
      step_groups: groups.length > 0 ? groups : undefined,
    },
    { schema: false },
  );
}

export function makeState(wsId: string, states: Record<string, StepState>, durations: Record<string, number> = {}): RunState {
  const steps: RunState["steps"] = {};
  for (const [id, state] of Object.entries(states)) {
    steps[id] = { id, state, attempts: 1, selected: true, durationMs: durations[id] };
  }
  return {
    version: 1,
    runId: "run-1",
    wsId,
    file: `/tmp/${wsId}.json`,
    hash: "0",
    pid: 1,
    startedAt: "2026-11-22T10:00:00.000Z",
    status: "failed",
    workdir: "/tmp",
    order: Object.keys(states),
    steps,
    breakers: {},
  };
}

/** The view the graph command builds, from a workstream and optional run state. */
export function viewOf(ws: Workstream, state?: RunState, weight: (id: string) => number = () => 1): GraphView {
  const graph = buildGraph(ws);
  return buildGraphView({
    workstream: ws,
    graph,
    waves: waves(graph),
    criticalPath: criticalPath(graph, (node) => weight(graph.ids[node]!)).path,
    state,
  });
}

/** a → {b, c} → d, with c slow: the critical path is a, c, d. */
export function diamond(): Workstream {
  return makeWorkstream("ws-diamond", [
    { id: "a" },
    { id: "b", deps: ["a"] },
    { id: "c", deps: ["a"], tool: "claude" },
    { id: "d", deps: ["b", "c"] },
  ]);
}

/** A handmade view, independent of the graph core, for renderer tests. */
export function handmadeView(): GraphView {
  return {
    wsId: "ws-hand",
    name: "Handmade",
    nodes: [
      { id: "build", label: "build", state: "passed", critical: true, wave: 0, tool: "shell", durationMs: 1200 },
      { id: "test.unit", label: "test.unit", state: "failed", group: "tests", critical: true, wave: 1, tool: "claude", durationMs: 65_000 },
      { id: "end", label: "end", state: "skipped", group: "tests", critical: false, wave: 1, tool: "shell" },
      { id: 'say "hi"', label: 'say "hi"', state: "blocked", critical: true, wave: 2, tool: "shell" },
    ],
    edges: [
      { from: "build", to: "test.unit", critical: true },
      { from: "build", to: "end", critical: false },
      { from: "test.unit", to: 'say "hi"', critical: true },
      { from: "end", to: 'say "hi"', critical: false },
    ],
    waves: [["build"], ["test.unit", "end"], ['say "hi"']],
    criticalPath: ["build", "test.unit", 'say "hi"'],
    groups: [{ id: "tests", steps: ["test.unit", "end"], label: "tests" }],
    lastRun: { runId: "run-7", status: "failed", startedAt: "2026-11-22T10:00:00.000Z" },
  };
}
