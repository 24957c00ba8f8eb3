import { describe, expect, it } from "vitest";
import { checkJsonSyntax } from "../../src/workstream/json-syntax.js";
import { parseSource } from "../../src/workstream/parse-source.js";

const JSON_TEXT = `{
  "id": "x",
  "steps": [
    { "id": "a", "run": "echo a" },
    { "id": "b", "depends_on": ["a"] }
  ]
}
`;

const YAML_TEXT = `id: x
steps:
  - id: a
    run: echo a
  - id: b
    depends_on: [a]
`;

describe("parseSource positions", () => {
  it("maps JSON document paths to line:col of values and keys", () => {
    const parsed = parseSource(JSON_TEXT, { path: "x.json", format: "json" });
    expect(parsed.ok).toBe(true);
    expect(parsed.source.locate(["id"])).toMatchObject({ line: 2, col: 9, length: 3 });
    expect(parsed.source.locate(["steps", 1, "depends_on"], "key")).toMatchObject({ line: 5, col: 18, length: 12 });
    expect(parsed.source.locate(["steps", 1, "depends_on", 0])).toMatchObject({ line: 5, col: 33, length: 3 });
    expect(parsed.source.locate(["steps", 7])).toBeUndefined();
    expect(parsed.source.locate(["nope"])).toBeUndefined();
  });

  it("maps YAML document paths to line:col of values and keys", () => {
    const parsed = parseSource(YAML_TEXT, { path: "x.yaml", format: "yaml" });
    expect(parsed.ok).toBe(true);
    expect(parsed.source.locate(["id"])).toMatchObject({ line: 1, col: 5 });
    expect(parsed.source.locate(["steps", 1, "depends_on"], "key")).toMatchObject({ line: 6, col: 5 });
    expect(parsed.source.locate(["steps", 1, "depends_on", 0])).toMatchObject({ line: 6, col: 18, length: 1 });
  });

  it("accepts a UTF-8 BOM without shifting columns", () => {
    const parsed = parseSource("\uFEFF" + JSON_TEXT, { path: "x.json", format: "json" });
    expect(parsed.ok).toBe(true);
    expect(parsed.source.locate(["id"])).toMatchObject({ line: 2, col: 9 });
  });

  it("is strict about JSON even though YAML would accept trailing commas and comments", () => {
    const trailing = parseSource('{"id": "x", "steps": [1, 2,]}', { path: "x.json", format: "json" });
    expect(trailing.ok).toBe(false);
    expect(trailing.diagnostics[0]).toMatchObject({ code: "parse", location: { line: 1, col: 27 } });
    expect(trailing.diagnostics[0]?.message).toMatch(/trailing comma/);
    const comment = parseSource('{\n  # hi\n  "id": "x"\n}', { path: "x.json", format: "json" });
    expect(comment.ok).toBe(false);
    expect(comment.diagnostics[0]?.location).toMatchObject({ line: 2, col: 3 });
  });

  it("reports YAML syntax errors with a position", () => {
    const parsed = parseSource("id: x\nsteps: [a\nb: 2\n", { path: "x.yaml", format: "yaml" });
    expect(parsed.ok).toBe(false);
    expect(parsed.diagnostics[0]?.location?.line).toBeGreaterThanOrEqual(2);
  });

  it("rejects an empty or whitespace-only file", () => {
    const parsed = parseSource(" \n\n", { path: "x.json", format: "json" });
    expect(parsed.ok).toBe(false);
    expect(parsed.diagnostics[0]).toMatchObject({ code: "empty-file", location: { line: 1, col: 1 } });
  });
});

describe("checkJsonSyntax", () => {
  it.each([
    ['{"a": 1 "b": 2}', 8, /expected "," or "}"/],
    ['{"a": tru}', 6, /unexpected "tru"/],
    ["{'a': 1}", 1, /double quotes/],
    ['{a: 1}', 1, /property name in double quotes/],
    ['{"a": "x\\q"}', 8, /invalid escape/],
    ['{"a": 1}  {}', 10, /after the end of the JSON value/],
    ['[1, 2', 5, /not closed/],
    ['{"a": "line\nbreak"}', 6, /unterminated string/],
  ])("%j fails at offset %d", (text, offset, message) => {
    const issues = checkJsonSyntax(text);
    const parse = issues.find((i) => i.code === "parse");
    expect(parse?.offset).toBe(offset);
    expect(parse?.message).toMatch(message);
  });

  it("accepts what JSON.parse accepts", () => {
    const text = JSON.stringify({ a: [1, -2.5e3, true, false, null, "x\"\\\u0001é"], b: {}, c: [] });
    expect(checkJsonSyntax(text)).toEqual([]);
  });

  it("finds duplicate keys that JSON.parse would silently drop", () => {
    const issues = checkJsonSyntax('{"a": 1, "b": {"a": 1}, "a": 2}');
    expect(issues).toEqual([expect.objectContaining({ code: "duplicate-key", offset: 24, message: 'duplicate key "a"' })]);
  });

  it("does not overflow the stack on deeply nested input", () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    expect(checkJsonSyntax(deep)).toEqual([]);
    expect(checkJsonSyntax("[".repeat(200_000))[0]?.message).toMatch(/not closed/);
  });
});
