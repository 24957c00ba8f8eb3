import { describe, expect, it } from "vitest";
import { renderJson } from "../../src/render/json.js";
import { diamond, handmadeView, makeState, viewOf } from "./helpers.js";

describe("renderJson", () => {
  it("round-trips the view: ids, edges, waves, critical path, states", () => {
    const view = viewOf(diamond(), makeState("ws-diamond", { a: "passed", b: "failed" }, { a: 10 }), (id) => (id === "b" ? 9 : 1));
    const doc = JSON.parse(renderJson(view));
    expect(doc.nodes.map((n: { id: string }) => n.id)).toEqual(["a", "b", "c", "d"]);
    expect(doc.edges).toEqual(view.edges);
    expect(doc.waves).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(doc.criticalPath).toEqual(["a", "b", "d"]);
    expect(doc.nodes[0]).toEqual({ id: "a", label: "a", tool: "shell", wave: 0, critical: true, state: "passed", durationMs: 10 });
    expect(doc.nodes[2].state).toBeUndefined();
    expect(doc.lastRun.runId).toBe("run-1");
    expect(doc).toEqual(JSON.parse(JSON.stringify(view)));
  });

  it("writes keys in one fixed order whatever order the view was built in", () => {
    const view = handmadeView();
    const shuffled = { ...view, nodes: view.nodes.map((n) => ({ durationMs: n.durationMs, ...n })) };
    expect(renderJson(shuffled)).toBe(renderJson(view));
    expect(Object.keys(JSON.parse(renderJson(view)))).toEqual(["wsId", "name", "lastRun", "nodes", "edges", "waves", "criticalPath", "groups"]);
  });
});
