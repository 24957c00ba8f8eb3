import { describe, expect, it } from "vitest";
import { renderAscii } from "../../src/render/ascii.js";
import { STATE_MARKS } from "../../src/format/state-marks.js";
import { diamond, handmadeView, makeState, makeWorkstream, viewOf } from "./helpers.js";

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/;

describe("renderAscii", () => {
  it("shows every step under its wave, with what it waits for", () => {
    const text = renderAscii(viewOf(diamond(), undefined, (id) => (id === "c" ? 5 : 1)), { color: false, width: 100 });
    const lines = text.split("\n");
    const at = (s: string) => lines.findIndex((l) => l.startsWith(s));
    expect(at("wave 1")).toBeLessThan(at("  a"));
    expect(at("wave 2")).toBeLessThan(at("  b"));
    expect(at("  c")).toBeLessThan(at("wave 3"));
    expect(lines[at("  d")]).toMatch(/^ {2}d \* shell\s+← b, c$/);
    expect(lines[at("  b")]).toMatch(/^ {2}b shell\s+← a$/);
    expect(text).toContain("critical path (*): a → c → d");
    expect(text).not.toMatch(ANSI);
  });

  it("marks each step with its last run's state", () => {
    const state = makeState("ws-diamond", { a: "passed", b: "failed", c: "running", d: "blocked" }, { a: 2000 });
    const text = renderAscii(viewOf(diamond(), state, (id) => (id === "c" ? 5 : 1)), { color: false, width: 100 });
    expect(text).toMatch(/^ {2}✔ a \* shell\s+2s$/m);
    expect(text).toMatch(/^ {2}✖ b shell\s+← a$/m);
    expect(text).toMatch(/^ {2}▶ c \* claude\s+← a$/m);
    expect(text).toMatch(/^ {2}⊘ d \* shell\s+← b, c$/m);
    expect(text).toContain("last run run-1: failed");
    for (const mark of Object.values(STATE_MARKS)) expect(text).toContain(mark);
  });

  it("names each step's tool when they differ, and why a step did not pass under it", () => {
    const view = handmadeView();
    view.nodes[1]!.reason = "exit:127";
    view.nodes[3]!.reason = "blocked_by:test.unit";
    const lines = renderAscii(view, { color: false, width: 100 }).split("\n");
    const at = lines.findIndex((l) => l.startsWith("  ✖ test.unit * [tests] claude"));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe("      exit:127");
    expect(lines[lines.findIndex((l) => l.startsWith('  ⊘ say "hi" * shell')) + 1]).toBe("      blocked_by:test.unit");
    // One tool everywhere: nothing to tell apart, so no tool column.
    for (const node of view.nodes) node.tool = "shell";
    expect(renderAscii(view, { color: false, width: 100 })).not.toContain(" shell");
  });

  it("shows groups, and colours only when asked", () => {
    const plain = renderAscii(handmadeView(), { color: false, width: 100 });
    expect(plain).toMatch(/↷ end \[tests\]/);
    expect(renderAscii(handmadeView(), { color: true, width: 100 })).toMatch(ANSI);
  });

  it("stays within the width and lists every step at 30+ steps", () => {
    // 3 layers of 12, each step waiting for every step of the layer before: 288 edges.
    const specs = [];
    for (let layer = 0; layer < 3; layer++) {
      for (let i = 0; i < 12; i++) {
        const deps = layer === 0 ? [] : Array.from({ length: 12 }, (_, j) => `step-${layer - 1}-${j}`);
        specs.push({ id: `step-${layer}-${i}`, deps });
      }
    }
    const view = viewOf(makeWorkstream("ws-wide", specs));
    for (const width of [60, 100]) {
      const lines = renderAscii(view, { color: false, width }).trimEnd().split("\n");
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
      for (const spec of specs) expect(lines.some((l) => l.trimStart().startsWith(spec.id))).toBe(true);
      // Each step of layer 1 is named once on its own line and once per step of layer 2.
      const all = lines.slice(lines.findIndex((l) => l.startsWith("wave 1"))).join(" ");
      for (let j = 0; j < 12; j++) expect(all.match(new RegExp(`step-1-${j}(?![0-9])`, "g"))).toHaveLength(13);
    }
  });
});
