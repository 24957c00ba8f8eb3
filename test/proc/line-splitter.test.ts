import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/proc/line-splitter.js";

function linesOf(chunks: Buffer[], cap: number, lastOnly?: number): string[] {
  const out: string[] = [];
  const splitter = new LineSplitter(cap, (line, dropped) => out.push(`${line.toString("latin1")}+${dropped}`), lastOnly);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return out;
}

describe("LineSplitter", () => {
  it("cuts lines across chunks, drops CR of CRLF, caps a long line and counts the rest", () => {
    const chunks = ["ab", "c\r\nde", "f\n", "0123456789", "\nlast"].map((s) => Buffer.from(s));
    expect(linesOf(chunks, 4)).toEqual(["abc+0", "def+0", "0123+6", "last+0"]);
  });

  it("keeping only the last lines gives the same last lines as reading them all", () => {
    const chunk = fc.array(fc.constantFrom("a", "bc", "\n", "\r\n", "xyz\n", "\n\n"), { maxLength: 12 }).map((parts) => Buffer.from(parts.join("")));
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 8 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 6 }), (chunks, n, cap) => {
        const all = linesOf(chunks, cap);
        const last = linesOf(chunks, cap, n);
        const lastN = (lines: string[]) => (n === 0 ? [] : lines.slice(Math.max(0, lines.length - n)));
        expect(lastN(last)).toEqual(lastN(all));
      }),
      { numRuns: 500 },
    );
  });
});
