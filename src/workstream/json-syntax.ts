/**
 * A strict JSON syntax checker that says where a file is wrong. `JSON.parse` rejects the same
 * inputs but often without a position ("Unexpected token '}'"), and YAML (which we use for
 * positions elsewhere) would accept trailing commas, comments and single quotes. It also finds
 * duplicate keys, which `JSON.parse` silently resolves to the last one.
 *
 * Iterative (an explicit stack), so deeply nested junk cannot overflow the call stack.
 */

interface JsonIssue {
  code: "parse" | "duplicate-key";
  offset: number;
  length: number;
  message: string;
  fix?: string | undefined;
}

type Frame = { kind: "object"; keys: Set<string> } | { kind: "array" };
type Expect = "value" | "value-or-close" | "key" | "key-or-close" | "colon" | "comma-or-close";

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/y;
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON strings forbid
const SPECIAL_IN_STRING = /[\\\x00-\x1f]/;

class SyntaxFailure {
  constructor(readonly issue: JsonIssue) {}
}

/** Returns the duplicate keys found and, if the text is not valid JSON, the first syntax error (last). */
export function checkJsonSyntax(text: string): JsonIssue[] {
  const issues: JsonIssue[] = [];
  try {
    scan(text, issues);
  } catch (error) {
    if (error instanceof SyntaxFailure) issues.push(error.issue);
    else throw error;
  }
  return issues;
}

function describe(text: string, i: number): string {
  if (i >= text.length) return "end of file";
  const ch = text[i] ?? "";
  return ch === '"' ? "a string" : JSON.stringify(ch);
}

function scan(text: string, issues: JsonIssue[]): void {
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;
  let expect: Expect = "value";
  let lastComma = -1;

  const fail = (offset: number, message: string, fix?: string, length = 1): never => {
    throw new SyntaxFailure({ code: "parse", offset, length: offset >= n ? 0 : length, message, fix });
  };

  const readString = (): string => {
    const start = i;
    // Fast path (most strings): no escapes or control characters before the closing quote.
    const close = text.indexOf('"', i + 1);
    if (close !== -1) {
      const body = text.slice(i + 1, close);
      if (!SPECIAL_IN_STRING.test(body)) {
        i = close + 1;
        return body;
      }
    }
    i++;
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        const raw = text.slice(start + 1, i - 1);
        return escaped ? (JSON.parse(text.slice(start, i)) as string) : raw;
      }
      if (c === 0x5c) {
        escaped = true;
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) fail(i, "invalid \\u escape: expected 4 hex digits", undefined, 2);
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          fail(i, `invalid escape "\\${e ?? ""}" in string`, 'valid escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX', 2);
        }
        i += 2;
        continue;
      }
      if (c === 0x0a || c === 0x0d) fail(start, "unterminated string", 'close it with a " on the same line');
      if (c < 0x20) fail(i, "control character in string", "escape it (e.g. \\t)");
      i++;
    }
    return fail(start, "unterminated string", 'close it with a "');
  };

  const readScalar = (): void => {
    const c = text[i];
    if (c === "'") fail(i, "strings must use double quotes in JSON", `replace ' with "`);
    if (c === "/") fail(i, "comments are not allowed in JSON", 'remove it, or use a "$comment" string property', 2);
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num && num[0].length > 0) {
      i += num[0].length;
      return;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text)?.[0];
    if (word === "true" || word === "false" || word === "null") {
      i += word.length;
      return;
    }
    if (word) fail(i, `unexpected "${word}": expected a value`, 'strings must be in double quotes; literals are true, false and null', word.length);
    fail(i, `unexpected ${describe(text, i)}: expected a value`);
  };

  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    const top = stack[stack.length - 1];
    if (i >= n) {
      if (!top && expect === "comma-or-close") return;
      if (!top && expect === "value") fail(i, "the file has no JSON value");
      const closer = top?.kind === "object" ? "}" : "]";
      fail(i, `unexpected end of file: ${top?.kind === "object" ? "an object" : "an array"} is not closed`, `add the missing "${closer}"`);
    }
    const ch = text[i];
    switch (expect) {
      case "value":
      case "value-or-close":
        if (ch === "]" || ch === "}") {
          if (expect === "value-or-close" && ch === "]") {
            stack.pop();
            i++;
            expect = "comma-or-close";
            break;
          }
          if (lastComma >= 0 && top && ch === (top.kind === "object" ? "}" : "]")) {
            fail(lastComma, "trailing comma is not allowed in JSON", "remove this comma");
          }
          fail(i, `unexpected ${describe(text, i)}: expected a value`);
        }
        if (ch === "{") {
          stack.push({ kind: "object", keys: new Set() });
          expect = "key-or-close";
          i++;
        } else if (ch === "[") {
          stack.push({ kind: "array" });
          expect = "value-or-close";
          i++;
        } else if (ch === '"') {
          readString();
          expect = "comma-or-close";
        } else {
          readScalar();
          expect = "comma-or-close";
        }
        break;
      case "key":
      case "key-or-close":
        if (ch === "}") {
          if (expect === "key") fail(lastComma, "trailing comma is not allowed in JSON", "remove this comma");
          stack.pop();
          i++;
          expect = "comma-or-close";
          break;
        }
        if (ch === '"') {
          const start = i;
          const key = readString();
          if (top?.kind === "object") {
            if (top.keys.has(key)) {
              issues.push({
                code: "duplicate-key",
                offset: start,
                length: i - start,
                message: `duplicate key "${key}"`,
                fix: "remove one of them (JSON would silently keep only the last)",
              });
            }
            top.keys.add(key);
          }
          expect = "colon";
          break;
        }
        if (ch === "'") fail(i, "strings must use double quotes in JSON", `replace ' with "`);
        if (ch === "/") fail(i, "comments are not allowed in JSON", 'remove it, or use a "$comment" string property', 2);
        {
          WORD.lastIndex = i;
          const word = WORD.exec(text)?.[0];
          fail(i, `expected a property name in double quotes, found ${word ? `"${word}"` : describe(text, i)}`, word ? `write "${word}"` : undefined, word?.length ?? 1);
        }
        break;
      case "colon":
        if (ch !== ":") fail(i, `expected ":" after the property name, found ${describe(text, i)}`);
        i++;
        lastComma = -1;
        expect = "value";
        break;
      case "comma-or-close":
        if (!top) fail(i, `unexpected ${describe(text, i)} after the end of the JSON value`, "a file holds one JSON value; remove the rest");
        if (ch === ",") {
          lastComma = i;
          i++;
          expect = top?.kind === "object" ? "key" : "value";
        } else if ((ch === "}" && top?.kind === "object") || (ch === "]" && top?.kind === "array")) {
          stack.pop();
          i++;
          expect = "comma-or-close";
        } else {
          const closer = top?.kind === "object" ? "}" : "]";
          fail(i, `expected "," or "${closer}", found ${describe(text, i)}`, `add a "," before this (a comma is probably missing)`);
        }
        break;
    }
  }
}
