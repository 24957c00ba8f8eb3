import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/graph/graph.js";
import { planRun } from "../../src/engine/plan.js";
import { idRecord } from "../../src/id-record.js";
import { workstreamOf } from "../helpers/workstream.js";
import { loadText, errors } from "../workstream/helpers.js";

/** step.weight: a step's share of the overall progress, against an average step (1). */
describe("progress weights in the plan", () => {
  const steps = [
    { id: "a", tool: "shell", run: "true" },
    { id: "b", tool: "shell", run: "true", weight: 5 },
    { id: "c", tool: "shell", run: "true" },
    { id: "d", tool: "shell", run: "true" },
  ];

  it("an explicit weight wins; the others weigh their past duration over the mean past duration, or 1 without one", () => {
    const ws = workstreamOf({ steps });
    const history = { steps: idRecord<number[]>([["a", [30_000]], ["b", [1000]], ["c", [10_000]]]) };
    const graph = buildGraph(ws);
    const plan = planRun(ws, graph, history, 2);
    // mean of a, b, c's past durations: 41 s / 3.
    expect(plan.weights).toEqual({ a: 30_000 / (41_000 / 3), b: 5, c: 10_000 / (41_000 / 3), d: 1 });
  });

  it("estimates the run only when every step in it has a past duration (a guess for the others is no estimate)", () => {
    const ws = workstreamOf({ steps: steps.map(({ id, tool, run }) => ({ id, tool, run, depends_on: id === "a" ? [] : ["a"] })) });
    const graph = buildGraph(ws);
    const partial = { steps: idRecord<number[]>([["a", [100]], ["b", [30_000]]]) };
    expect(planRun(ws, graph, partial, 2).estimateMs).toBeUndefined();
    expect(planRun(ws, graph, partial, 2, new Set([0, 1])).estimateMs).toBe(30_100);
    const full = { steps: idRecord<number[]>([["a", [100]], ["b", [30_000]], ["c", [1000]], ["d", [1000]]]) };
    expect(planRun(ws, graph, full, 2).estimateMs).toBe(Math.max(30_100, 32_100 / 2));
  });

  it("no step sets a weight: none in the plan (expectedMs, or 1 each, weighs), so run-start stays small", () => {
    const ws = workstreamOf({ steps: steps.map(({ id, tool, run }) => ({ id, tool, run })) });
    const graph = buildGraph(ws);
    expect(planRun(ws, graph, { steps: idRecord() }, 2).weights).toBeUndefined();
  });

  it("a first run weighs a step group as one step, split among its members (seed 003: init 33%, three workers 11.11% each); history then takes over", () => {
    const ws = workstreamOf({
      steps: [
        { id: "init", tool: "shell", run: "true" },
        ...["w1", "w2", "w3"].map((id) => ({ id, tool: "shell", run: "true", depends_on: ["init"] })),
        { id: "merge", tool: "shell", run: "true", depends_on: ["workers"] },
      ],
      step_groups: [{ id: "workers", steps: ["w1", "w2", "w3"] }],
    });
    const graph = buildGraph(ws);
    const first = planRun(ws, graph, { steps: idRecord() }, 3).weights!;
    expect(first).toEqual({ init: 1, w1: 1 / 3, w2: 1 / 3, w3: 1 / 3, merge: 1 });
    const total = Object.values(first).reduce((a, b) => a + b, 0);
    expect(Math.round((first.init! / total) * 10_000) / 100).toBe(33.33);
    expect(Math.round((first.w1! / total) * 10_000) / 100).toBe(11.11);
    const history = { steps: idRecord<number[]>(["init", "w1", "w2", "w3", "merge"].map((id) => [id, [1000]])) };
    expect(planRun(ws, graph, history, 3).weights).toBeUndefined();
  });

  it("the schema wants a number over 0", async () => {
    for (const weight of [0, -1, "2"]) {
      const r = await loadText("w.json", { id: "w", steps: [{ id: "a", tool: "shell", run: "true", weight }] });
      expect(errors(r).map((d) => d.message).join("\n"), String(weight)).toMatch(/weight/);
    }
    const ok = await loadText("w.json", { id: "w", steps: [{ id: "a", tool: "shell", run: "true", weight: 0.5 }] });
    expect(ok.ok && ok.workstream.steps[0]?.weight).toBe(0.5);
  });
});
