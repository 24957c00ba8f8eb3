import { describe, expect, it } from "vitest";
import { criticalPath } from "../../src/graph/critical-path.js";
import { buildGraph } from "../../src/graph/graph.js";
import { acyclicPart, waves } from "../../src/graph/order.js";
import { ancestors, descendants, reachability } from "../../src/graph/reachability.js";
import { chain, makeWs } from "./make-ws.js";

const named = (ids: string[], nodes: Iterable<number>): string[] => [...nodes].map((node) => ids[node]!);

describe("buildGraph", () => {
  it("expands group ids, drops unknown ids, dedupes and sorts deps", () => {
    const ws = makeWs(
      [
        { id: "a" },
        { id: "b" },
        { id: "c" },
        { id: "d", dependsOn: ["c", "g", "missing", "a", "c"] },
      ],
      { groups: [{ id: "g", steps: ["b", "a", "nope"] }] },
    );
    const g = buildGraph(ws);
    expect(g.ids).toEqual(["a", "b", "c", "d"]);
    expect(g.deps).toEqual([[], [], [], [0, 1, 2]]);
    expect(g.dependents).toEqual([[3], [3], [3], []]);
  });

  it("keeps the first of duplicate ids in the index but every step as a node", () => {
    const g = buildGraph(chain({ a: [], x: ["a"] }));
    expect(g.index.get("a")).toBe(0);
    const dup = buildGraph(makeWs([{ id: "a" }, { id: "a", dependsOn: ["b"] }, { id: "b", dependsOn: ["a"] }]));
    expect(dup.ids).toEqual(["a", "a", "b"]);
    expect(dup.index.get("a")).toBe(0);
    expect(dup.deps).toEqual([[], [2], [0]]);
  });

  it("resolves a name that is both a step and a group to the step", () => {
    const ws = makeWs([{ id: "a" }, { id: "b" }, { id: "c", dependsOn: ["a"] }], { groups: [{ id: "a", steps: ["b"] }] });
    expect(buildGraph(ws).deps[2]).toEqual([0]);
  });
});

describe("order", () => {
  // Diamond: a ← b, a ← c, {b, c} ← d, and an independent e.
  const diamond = chain({ d: ["b", "c"], c: ["a"], b: ["a"], a: [], e: [] });
  const g = buildGraph(diamond);

  it("orders the acyclic part topologically and leaves a cycle out", () => {
    expect(named(g.ids, acyclicPart(g)).sort()).toEqual(["a", "b", "c", "d", "e"]);
    const cyclic = buildGraph(chain({ a: ["b"], b: ["a"], c: [] }));
    expect(named(cyclic.ids, acyclicPart(cyclic))).toEqual(["c"]);
  });

  it("groups nodes into waves by longest dependency chain", () => {
    expect(waves(g).map((wave) => named(g.ids, wave))).toEqual([["a", "e"], ["c", "b"], ["d"]]);
  });

  it("puts a node in the wave of its longest chain, not its shortest", () => {
    const h = buildGraph(chain({ a: [], b: ["a"], c: ["b"], d: ["a", "c"] }));
    expect(waves(h).map((wave) => named(h.ids, wave))).toEqual([["a"], ["b"], ["c"], ["d"]]);
  });

  it("leaves nodes on or behind a cycle out of the waves", () => {
    const h = buildGraph(chain({ a: [], b: ["c"], c: ["b"], d: ["b"], e: ["a"] }));
    expect(waves(h).map((wave) => named(h.ids, wave))).toEqual([["a"], ["e"]]);
  });
});

describe("criticalPath", () => {
  it("follows the heaviest chain and sums remaining work", () => {
    const g = buildGraph(chain({ a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: [] }));
    const weights = [1, 5, 2, 1, 6];
    const result = criticalPath(g, (node) => weights[node]!);
    expect(named(g.ids, result.path)).toEqual(["a", "b", "d"]);
    expect(result.length).toBe(7);
    expect(result.remaining).toEqual([7, 6, 3, 1, 6]);
  });

  it("is empty for an empty graph", () => {
    expect(criticalPath(buildGraph(makeWs([])), () => 1)).toEqual({ length: 0, path: [], remaining: [] });
  });

  it("breaks ties by file order", () => {
    const g = buildGraph(chain({ a: [], b: [], c: ["a", "b"] }));
    expect(named(g.ids, criticalPath(g, () => 1).path)).toEqual(["a", "c"]);
  });
});

describe("reachability", () => {
  const g = buildGraph(chain({ a: [], b: ["a"], c: ["b"], d: [], e: ["d", "c"] }));
  const reach = reachability(g);

  it("answers transitive dependency queries in both directions", () => {
    const at = (id: string): number => g.index.get(id)!;
    expect(reach.reaches(at("a"), at("c"))).toBe(true);
    expect(reach.reaches(at("a"), at("e"))).toBe(true);
    expect(reach.reaches(at("c"), at("a"))).toBe(false);
    expect(reach.reaches(at("d"), at("c"))).toBe(false);
    expect(reach.reaches(at("a"), at("a"))).toBe(false);
  });

  it("works on cyclic graphs: every member of a cycle reaches every other and itself", () => {
    const h = buildGraph(chain({ a: ["c"], b: ["a"], c: ["b"], d: ["a"] }));
    const r = reachability(h);
    for (const x of [0, 1, 2]) for (const y of [0, 1, 2, 3]) expect(r.reaches(x, y)).toBe(true);
    expect(r.reaches(3, 0)).toBe(false);
  });

  it("lists descendants and ancestors including the roots", () => {
    expect(named(g.ids, [...descendants(g, [g.index.get("b")!])].sort())).toEqual(["b", "c", "e"]);
    expect(named(g.ids, [...ancestors(g, [g.index.get("e")!])].sort())).toEqual(["a", "b", "c", "d", "e"]);
    expect(descendants(g, []).size).toBe(0);
  });
});
