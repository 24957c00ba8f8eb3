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
    expect(lines[at("  d")]).toMatch(/^ {2}d \*\s+← b, c$/);
    expect(lines[at("  b")]).toMatch(/^ {2}b\s+← a$/);
    expect(text).toContain("critical path (*): a → c → d");
    expect(text).not.toMatch(ANSI);
  });

  it("marks each step with its last run's state", () => {
    const state = makeState("ws-diamond", { a: "passed", b: "failed", c: "running", d: "blocked" }, { a: 2000 });
    const text = renderAscii(viewOf(diamond(), state, (id) => (id === "c" ? 5 : 1)), { color: false, width: 100 });
    expect(text).toMatch(/^ {2}✔ a \*\s+2s$/m);
    expect(text).toMatch(/^ {2}✖ b\s+← a$/m);
    expect(text).toMatch(/^ {2}▶ c \*\s+← a$/m);
    expect(text).toMatch(/^ {2}⊘ d \*\s+← b, c$/m);
    expect(text).toContain("last run run-1: failed");
    for (const mark of Object.values(STATE_MARKS)) expect(text).toContain(mark);
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
