import { describe, expect, it } from "vitest";
import { quote, renderDot } from "../../src/render/dot.js";
import { dotToSvg } from "../../src/render/svg.js";
import { diamond, handmadeView, makeState, viewOf } from "./helpers.js";
import { svgTexts } from "./svg-text.js";

describe("renderDot", () => {
  it("is a left-to-right digraph with clusters, state colours and a thick purple critical path", () => {
    const view = handmadeView();
    view.nodes[1]!.reason = "exit:127";
    const dot = renderDot(view);
    expect(dot).toMatch(/^digraph "ws-hand" \{\n\s+graph \[rankdir=LR/);
    expect(dot).toContain('fontname="DejaVu Sans"');
    expect(dot).toMatch(/subgraph "cluster_0" \{\n\s+graph \[label="tests"/);
    // Failed is a red fill, critical a thick purple border: a failed critical step shows both.
    expect(dot).toMatch(/"test\.unit" \[label="test\.unit\\n✖ failed · 1m05s\\nclaude · exit:127", fillcolor="#f8d7da".*color="#6a1b9a", penwidth=3\]/);
    expect(dot).toContain('"build" -> "test.unit" [color="#6a1b9a", penwidth=3];');
    expect(dot).toContain('"build" -> "end";');
    expect(dot).toContain('"say \\"hi\\"" [label=');
  });

  it("quotes ids so quotes, backslashes and newlines cannot break out", () => {
    expect(quote('a"b')).toBe('"a\\"b"');
    expect(quote("a\\b")).toBe('"a\\\\b"');
    expect(quote("a\nb")).toBe('"a\\nb"');
  });
});

describe("dotToSvg", () => {
  it("renders the DOT through wasm Graphviz, every step id drawn as text", async () => {
    const view = handmadeView();
    const svg = await dotToSvg(renderDot(view));
    expect(svg).toContain("<svg");
    const texts = svgTexts(svg);
    for (const node of view.nodes) expect(texts).toContain(node.id);
    expect(texts).toContain("tests");
    expect(svg).toContain('font-family="DejaVu Sans"');
    // Each edge becomes one <g class="edge"> with "from->to" as its title.
    expect(svg.match(/class="edge"/g)).toHaveLength(view.edges.length);
  });

  it("renders a workstream built through the graph core, states included", async () => {
    const view = viewOf(diamond(), makeState("ws-diamond", { a: "passed", b: "failed", c: "passed", d: "blocked" }));
    const texts = svgTexts(await dotToSvg(renderDot(view)));
    for (const id of ["a", "b", "c", "d"]) expect(texts).toContain(id);
    expect(texts).toContain("✖ failed");
    expect(texts).toContain("⊘ blocked");
  });

  it("rejects broken DOT instead of drawing something", async () => {
    await expect(dotToSvg("digraph { a -> }")).rejects.toThrow();
  });
});
