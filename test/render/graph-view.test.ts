import { describe, expect, it } from "vitest";
import { diamond, makeState, makeWorkstream, viewOf } from "./helpers.js";

describe("buildGraphView", () => {
  it("turns the graph into ids: nodes in file order, edges from dependency to dependent, waves", () => {
    const view = viewOf(diamond(), undefined, (id) => (id === "c" ? 5 : 1));
    expect(view.nodes.map((n) => n.id)).toEqual(["a", "b", "c", "d"]);
    expect(view.edges).toEqual([
      { from: "a", to: "b", critical: false },
      { from: "a", to: "c", critical: true },
      { from: "b", to: "d", critical: false },
      { from: "c", to: "d", critical: true },
    ]);
    expect(view.waves).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(view.criticalPath).toEqual(["a", "c", "d"]);
    expect(view.nodes.map((n) => [n.id, n.wave, n.critical, n.tool])).toEqual([
      ["a", 0, true, "shell"],
      ["b", 1, false, "shell"],
      ["c", 1, true, "claude"],
      ["d", 2, true, "shell"],
    ]);
    expect(view.lastRun).toBeUndefined();
    expect(view.nodes.every((n) => n.state === undefined)).toBe(true);
  });

  it("takes states and durations from the last run", () => {
    const state = makeState("ws-diamond", { a: "passed", b: "failed", c: "passed", d: "blocked" }, { a: 1500 });
    const view = viewOf(diamond(), state);
    expect(view.nodes.map((n) => n.state)).toEqual(["passed", "failed", "passed", "blocked"]);
    expect(view.nodes[0]!.durationMs).toBe(1500);
    expect(view.lastRun).toEqual({ runId: "run-1", status: "failed", startedAt: state.startedAt });
  });

  it("gives no duration to a step that never started", () => {
    const state = makeState("ws-diamond", { a: "passed", b: "skipped" }, { a: 5, b: 0 });
    state.steps.b!.attempts = 0;
    const view = viewOf(diamond(), state);
    expect(view.nodes.map((n) => n.durationMs)).toEqual([5, undefined, undefined, undefined]);
  });

  it("expands a group named in depends_on and puts each step in its first group", () => {
    const ws = makeWorkstream(
      "ws-groups",
      [{ id: "x" }, { id: "y" }, { id: "z", deps: ["both"] }],
      [
        { id: "both", steps: ["x", "y"] },
        { id: "again", steps: ["y", "ghost"] },
      ],
    );
    const view = viewOf(ws);
    expect(view.edges.map((e) => `${e.from}>${e.to}`)).toEqual(["x>z", "y>z"]);
    expect(view.groups).toEqual([
      { id: "both", steps: ["x", "y"], label: "both" },
      { id: "again", steps: ["y"], label: "again" },
    ]);
    expect(view.nodes.map((n) => n.group)).toEqual(["both", "both", undefined]);
  });

  it("labels a step that runs after failures with its run_if, in every format", () => {
    const ws = diamond();
    ws.steps[3]!.runIf = "always";
    const view = viewOf(ws);
    expect(view.nodes.map((n) => n.label)).toEqual(["a", "b", "c", "d (if always)"]);
  });

  it("labels a gated step, beside its run_if", () => {
    const ws = diamond();
    ws.steps[1]!.approval = { prompt: "Go?", timeout: 0, environment: "b", onReject: "hold" };
    ws.steps[3]!.approval = { prompt: "Go?", timeout: 0, environment: "d", onReject: "hold" };
    ws.steps[3]!.runIf = "always";
    expect(viewOf(ws).nodes.map((n) => n.label)).toEqual(["a", "b (approval)", "c", "d (approval, if always)"]);
  });

  it("a group's label says how it decides: any, race, timeout", () => {
    const ws = makeWorkstream("ws-race", [{ id: "x" }, { id: "y" }], [{ id: "best", steps: ["x", "y"] }]);
    Object.assign(ws.stepGroups[0]!, { succeed: "any", cancelRest: true, timeout: 600 });
    expect(viewOf(ws).groups[0]?.label).toBe("best (any, race, timeout 10m00s)");
  });
});
