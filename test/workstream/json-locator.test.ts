import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createJsonLocator } from "../../src/workstream/json-locator.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path into a value, with the value found there. */
function paths(value: Json, prefix: Array<string | number> = []): Array<[Array<string | number>, Json]> {
  const found: Array<[Array<string | number>, Json]> = [[prefix, value]];
  if (Array.isArray(value)) value.forEach((v, k) => found.push(...paths(v, [...prefix, k])));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) found.push(...paths(v, [...prefix, k]));
  return found;
}

// Strings full of quotes and backslashes: the locator skips strings by searching for quotes.
const tricky = fc.string({ unit: fc.constantFrom("a", '"', "\\", "\\\\", "]", "}", "{", "[", ",", " ", "é") });
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    tricky,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(tricky, tie("value"), { maxKeys: 4 }),
  ),
})).value;

describe("createJsonLocator", () => {
  it("finds every value and key of any JSON text, however it is indented", () => {
    fc.assert(
      fc.property(json, fc.constantFrom(0, 2, "\t"), (value, indent) => {
        const text = `\n ${JSON.stringify(value, null, indent)} \n`;
        const locate = createJsonLocator(text);
        for (const [path, expected] of paths(value)) {
          const span = locate(path);
          expect(span, JSON.stringify(path)).toBeDefined();
          expect(JSON.parse(text.slice(span!.offset, span!.offset + span!.length))).toEqual(expected);
          const last = path.at(-1);
          if (typeof last === "string") {
            const key = locate(path, "key")!;
            expect(JSON.parse(text.slice(key.offset, key.offset + key.length))).toBe(last);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
