import { describe, expect, it } from "vitest";
import { renderMermaid } from "../../src/render/mermaid.js";
import { diamond, handmadeView, makeState, viewOf } from "./helpers.js";

/** Node declarations as safe id → label, and edges as [from, to] safe ids. */
function parse(text: string): { nodes: Map<string, string>; edges: Array<[string, string]>; lines: string[] } {
  const lines = text.trimEnd().split("\n").map((l) => l.trim());
  const nodes = new Map<string, string>();
  const edges: Array<[string, string]> = [];
  for (const line of lines) {
    const node = /^(s_\w+)\["([^"]*)"\]$/.exec(line);
    // The first line of a label is the step; a <br/> adds its tool and reason.
    if (node) nodes.set(node[1]!, node[2]!.split("<br/>")[0]!);
    const edge = /^(\w+) --> (\w+)$/.exec(line);
    if (edge) edges.push([edge[1]!, edge[2]!]);
  }
  return { nodes, edges, lines };
}

describe("renderMermaid", () => {
  it("declares every node and every edge, from dependency to dependent", () => {
    const view = handmadeView();
    const { nodes, edges, lines } = parse(renderMermaid(view));
    expect(lines[0]).toBe("flowchart LR");
    const labelToId = new Map([...nodes].map(([id, label]) => [label.replace(/^\S+ /, "").replace(/#quot;/g, '"'), id]));
    expect([...labelToId.keys()].sort()).toEqual(view.nodes.map((n) => n.id).sort());
    expect(edges).toEqual(view.edges.map((e) => [labelToId.get(e.from), labelToId.get(e.to)]));
  });

  it("uses Mermaid-safe ids, quoted labels and keeps colliding names apart", () => {
    const view = handmadeView();
    view.nodes.push({ id: "test_unit", label: "test_unit", critical: false, wave: 0, tool: "shell" });
    const { nodes } = parse(renderMermaid(view));
    for (const id of nodes.keys()) expect(id).toMatch(/^s_[A-Za-z0-9_]+$/);
    expect(new Set(nodes.keys()).size).toBe(view.nodes.length);
    expect([...nodes.values()]).toContain("⊘ say #quot;hi#quot;");
    expect([...nodes.keys()]).not.toContain("end");
  });

  it("draws groups as subgraphs, classes per state and the critical path", () => {
    const text = renderMermaid(handmadeView());
    expect(text).toMatch(/subgraph g_tests\["tests"\]\n\s+s_test_unit\[.*\]\n\s+s_end\[.*\]\n\s+end\n/);
    expect(text).toContain("classDef failed ");
    expect(text).toContain("class s_test_unit failed");
    expect(text).toContain("class s_build passed");
    // Purple for the critical path: red is taken by "failed".
    expect(text).toMatch(/linkStyle 0,2 stroke:#6a1b9a,stroke-width:4px/);
    expect(text).toContain('s_test_unit["✖ test.unit<br/>claude"]');
  });

  it("renders a loaded workstream without states when it never ran", () => {
    const text = renderMermaid(viewOf(diamond()));
    const { nodes, edges } = parse(text);
    expect([...nodes.values()]).toEqual(["a", "b", "c", "d"]);
    expect(edges).toEqual([["s_a", "s_b"], ["s_a", "s_c"], ["s_b", "s_d"], ["s_c", "s_d"]]);
    expect(text).not.toContain("classDef");
    const ran = renderMermaid(viewOf(diamond(), makeState("ws-diamond", { a: "running" })));
    expect(ran).toContain("class s_a running");
  });
});
