import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/diagnostics.js";
import { formatDiagnostics } from "../../src/cli/format-diagnostics.js";

const text = '{\n  "id": "x",\n  "steps": []\n}\n';
const sources = new Map([["w/x.json", text]]);
const at = (line: number, col: number, offset: number, length: number) => ({ line, col, offset, length });

describe("formatDiagnostics", () => {
  it("prints location, source line, underline, fix, related entries and a count", () => {
    const diagnostics: Diagnostic[] = [
      { severity: "error", code: "schema", message: "steps must have at least 1 item", file: "w/x.json", location: at(3, 12, 25, 2), fix: "add a step" },
      {
        severity: "warning",
        code: "cycle",
        message: "something cyclic",
        file: "w/x.json",
        location: at(2, 3, 4, 0),
        related: [{ message: "edge one", location: at(2, 9, 10, 3) }, { message: "no position" }],
      },
      { severity: "error", code: "io", message: "file not found", file: "w/y.json" },
    ];
    expect(formatDiagnostics(diagnostics, { color: false, sources })).toBe(
      [
        "w/x.json:3:12: error: steps must have at least 1 item",
        '  3 |   "steps": []',
        "    |            ~~",
        "  fix: add a step",
        "",
        "w/x.json:2:3: warning: something cyclic",
        '  2 |   "id": "x",',
        "    |   ^",
        "    w/x.json:2:9: edge one",
        '      2 |   "id": "x",',
        "        |         ~~~",
        "    no position",
        "",
        "w/y.json: error: file not found",
        "",
        "2 errors, 1 warning in 2 files",
        "",
      ].join("\n"),
    );
  });

  it("colours only when asked", () => {
    const d: Diagnostic[] = [{ severity: "error", code: "x", message: "m", file: "w/x.json", location: at(1, 1, 0, 1) }];
    expect(formatDiagnostics(d, { color: false, sources })).not.toContain("\u001b[");
    expect(formatDiagnostics(d, { color: true, sources })).toContain("\u001b[");
  });

  it("shows a window of a very long line with the underline still under the column", () => {
    const long = "x".repeat(5000) + "BAD" + "y".repeat(5000);
    const d: Diagnostic[] = [{ severity: "error", code: "x", message: "m", file: "long.json", location: at(1, 5001, 5000, 3) }];
    const lines = formatDiagnostics(d, { color: false, sources: new Map([["long.json", long]]) }).split("\n");
    const source = lines[1] ?? "";
    const underline = lines[2] ?? "";
    expect(source.length).toBeLessThan(200);
    expect(source.slice(underline.indexOf("~"), underline.indexOf("~") + 3)).toBe("BAD");
  });

  it("returns nothing for no diagnostics", () => {
    expect(formatDiagnostics([], { color: false })).toBe("");
  });
});
