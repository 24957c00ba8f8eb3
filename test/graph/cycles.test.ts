import { describe, expect, it } from "vitest";
import { findCycles } from "../../src/graph/cycles.js";
import { buildGraph, type Graph } from "../../src/graph/graph.js";
import { chain, makeWs } from "./make-ws.js";

const cyclesOf = (g: Graph, limit?: number): string[] => findCycles(g, limit).map((cycle) => cycle.map((node) => g.ids[node]).join(">"));

/** Steps s0..s(n-1) where s(i) depends on s(i+1) and the last on s0. */
function ring(length: number): Graph {
  const ids = Array.from({ length }, (_, i) => `s${i}`);
  return buildGraph(makeWs(ids.map((id, i) => ({ id, dependsOn: [ids[(i + 1) % length]!] }))));
}

describe("findCycles", () => {
  it.each([1, 2, 3, 7, 50])("finds a ring of length %i once, starting at its first node", (length) => {
    const found = findCycles(ring(length));
    expect(found).toEqual([Array.from({ length }, (_, i) => i)]);
  });

  it("reports nothing for DAGs, diamonds included", () => {
    expect(cyclesOf(buildGraph(chain({ a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: ["d", "a"] })))).toEqual([]);
  });

  it("reports the direction as written: a depends on b", () => {
    expect(cyclesOf(buildGraph(chain({ a: ["b"], b: ["c"], c: ["a"] })))).toEqual(["a>b>c"]);
    expect(cyclesOf(buildGraph(chain({ a: ["c"], b: ["a"], c: ["b"] })))).toEqual(["a>c>b"]);
  });

  it("reports every cycle of separate components", () => {
    const g = buildGraph(chain({ a: ["b"], b: ["a"], c: [], d: ["e"], e: ["f"], f: ["d"], g: ["g"] }));
    expect(cyclesOf(g)).toEqual(["a>b", "d>e>f", "g"]);
  });

  it("reports every elementary cycle of one component, no rotations twice", () => {
    // Figure eight through a: a→b→a and a→c→a, plus b→c→a→b.
    const g = buildGraph(chain({ a: ["b", "c"], b: ["a", "c"], c: ["a"] }));
    expect(cyclesOf(g).sort()).toEqual(["a>b", "a>b>c", "a>c"]);
  });

  it("finds cycles reached through a group", () => {
    const ws = makeWs([{ id: "a", dependsOn: ["grp"] }, { id: "b", dependsOn: ["a"] }], { groups: [{ id: "grp", steps: ["a", "b"] }] });
    expect(cyclesOf(buildGraph(ws)).sort()).toEqual(["a", "a>b"]);
  });

  it("stops at the limit on a complete graph, yet reports every cyclic component", () => {
    const ids = Array.from({ length: 9 }, (_, i) => `n${i}`);
    const complete = ids.map((id) => ({ id, dependsOn: ids.filter((other) => other !== id) }));
    const g = buildGraph(makeWs([...complete, { id: "x", dependsOn: ["y"] }, { id: "y", dependsOn: ["x"] }]));
    const found = cyclesOf(g, 20);
    expect(found.length).toBe(21);
    expect(new Set(found).size).toBe(21);
    expect(found).toContain("x>y");
  });

  it("handles a 10 000-node ring without overflowing the stack", () => {
    expect(findCycles(ring(10_000))[0]).toHaveLength(10_000);
  });
});
