import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkJsonSyntax } from "../../src/workstream/json-syntax.js";
import { keysInText, keysInValue, parseSource } from "../../src/workstream/parse-source.js";

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

describe("parseSource on JSON: the syntax checker runs only when JSON.parse or the key count says so", () => {
  // Keys that collide by value but not by spelling, escaped quotes and backslashes before a
  // closing quote, strings that look like keys (followed by a colon only inside a string).
  const key = fc.constantFrom('"a"', '"b"', '"a\\\\"', '"\\"a"', '"\\u0061"', '"__proto__"', '"x\\":"');
  const scalar = fc.constantFrom("1", "-2.5e3", "null", "true", '"s"', '"q\\""', '"\\\\"', '"a:"', '" : "');
  const space = fc.constantFrom("", " ", "\n\t");
  const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("array"), tie("object")),
    array: fc.array(tie("value"), { maxLength: 3 }).map((items) => `[${items.join(",")}]`),
    object: fc
      .array(fc.tuple(key, space, tie("value")), { maxLength: 4 })
      .map((members) => `{${members.map(([k, w, v]) => `${w}${k}${w}:${w}${v}`).join(",")}}`),
  }));
  // Some texts broken by one inserted character, so the checker's errors are covered too.
  const text = fc.tuple(value, fc.option(fc.tuple(fc.nat(), fc.constantFrom(",", "}", "]", '"', ":", "\\", "x", "/")), { nil: undefined })).map(([doc, cut]) =>
    cut === undefined ? doc : doc.slice(0, cut[0] % (doc.length + 1)) + cut[1] + doc.slice(cut[0] % (doc.length + 1)),
  );

  it("reports what checking every text first reported, and parses the same value", () => {
    fc.assert(
      fc.property(text, (doc) => {
        const issues = checkJsonSyntax(doc);
        const parsed = parseSource(doc, { path: "x.json", format: "json" });
        expect(parsed.diagnostics.map((d) => [d.code, d.message, d.location?.offset])).toEqual(issues.map((i) => [i.code, i.message, i.offset]));
        expect(parsed.ok).toBe(!issues.some((i) => i.code === "parse"));
        if (parsed.ok) expect(parsed.value).toEqual(JSON.parse(doc));
      }),
      { numRuns: 3000 },
    );
  });

  it("counts the keys of a text and of its value alike exactly when no key repeats", () => {
    expect(keysInText('{"a": {"b\\"": [{"c":1}], "d": "e:"}, "f" : "\\\\"}')).toBe(5);
    expect(keysInValue(JSON.parse('{"a": {"b\\"": [{"c":1}], "d": "e:"}, "f" : "\\\\"}'))).toBe(5);
    expect(keysInValue(JSON.parse('{"a": {"x": 1, "y": 2}, "a": 1}'))).toBeLessThan(keysInText('{"a": {"x": 1, "y": 2}, "a": 1}'));
  });
});
