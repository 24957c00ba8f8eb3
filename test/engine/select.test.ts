import { describe, expect, it } from "vitest";
import { selectSteps } from "../../src/engine/select.js";
import { buildGraph } from "../../src/graph/graph.js";
import type { RunState } from "../../src/store/run-state.js";
import { workstreamOf, type RawInput } from "../helpers/workstream.js";

/** A previous run where each step ended as given (only the states matter to selection). */
function previous(states: Record<string, string>): RunState {
  return { steps: Object.fromEntries(Object.entries(states).map(([id, state]) => [id, { id, state, attempts: 1, selected: true }])) } as unknown as RunState;
}

function resumed(doc: RawInput, states: Record<string, string>): string[] {
  const ws = workstreamOf(doc);
  const graph = buildGraph(ws);
  const selected = selectSteps(ws, graph, {}, previous(states));
  if (!(selected instanceof Set)) throw new Error("unexpected unknown step");
  return [...selected].sort((a, b) => a - b).map((i) => graph.ids[i] ?? "");
}

describe("selectSteps on a resume: run_if steps that judged their dependencies", () => {
  const doc: RawInput = {
    steps: [
      { id: "lint" },
      { id: "test" },
      { id: "report", depends_on: ["lint", "test"], run_if: "always" },
      { id: "alert", depends_on: ["test"], run_if: "failure" },
      { id: "after-report", depends_on: ["report"], run_if: "always" },
      { id: "unrelated" },
      { id: "unrelated-report", depends_on: ["unrelated"], run_if: "always" },
    ],
  };

  it("an always step that passed over cancelled checks runs again with them, and so does an always step after it", () => {
    const states = { lint: "passed", test: "cancelled", report: "passed", alert: "skipped", "after-report": "passed", unrelated: "passed", "unrelated-report": "passed" };
    expect(resumed(doc, states)).toEqual(["test", "report", "alert", "after-report"]);
  });

  it("a failure step that passed runs again when a step upstream of it runs again", () => {
    const states = { lint: "passed", test: "failed", report: "passed", alert: "passed", "after-report": "passed", unrelated: "passed", "unrelated-report": "passed" };
    expect(resumed(doc, states)).toEqual(["test", "report", "alert", "after-report"]);
  });

  it("nothing upstream runs again: passed always steps stay passed", () => {
    const states = { lint: "passed", test: "passed", report: "passed", alert: "skipped", "after-report": "passed", unrelated: "cancelled", "unrelated-report": "passed" };
    expect(resumed(doc, states)).toEqual(["alert", "unrelated", "unrelated-report"]);
  });

  it("a failure step without depends_on watches the whole run: it goes again when any step does", () => {
    const handler: RawInput = { steps: [{ id: "a" }, { id: "b" }, { id: "on-fail", run_if: "failure" }] };
    expect(resumed(handler, { a: "passed", b: "failed", "on-fail": "passed" })).toEqual(["b", "on-fail"]);
    expect(resumed(handler, { a: "passed", b: "passed", "on-fail": "passed" })).toEqual([]);
  });
});
