import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type { Diagnostic, DocPath, SourceFile, SourceLocation } from "../diagnostics.js";
import { checkJsonSyntax } from "./json-syntax.js";
import { createJsonLocator, type Span } from "./json-locator.js";

type YamlNode = Yaml.Node;
let yamlModule: typeof Yaml | undefined;
/** Required on the first YAML file (yaml is CommonJS too): a JSON workstream never loads it (~30 % of a one-step `ws run`). */
function yaml(): typeof Yaml {
  return (yamlModule ??= createRequire(import.meta.url)("yaml") as typeof Yaml);
}

/**
 * Parses a workstream file's text into a plain value plus a SourceFile that maps document paths
 * back to `line:col`. `.json` is strict JSON (trailing commas and comments are errors, as
 * JSON.parse would say, but with a position); `.yaml`/`.yml` go through the yaml package.
 */

type SourceFormat = "json" | "yaml";

/** A SourceFile that can also place a raw offset (parse errors have no document path). */
export interface PositionedSource extends SourceFile {
  position(offset: number, length: number): SourceLocation;
}

type ParseResult =
  | { ok: true; value: unknown; source: PositionedSource; diagnostics: Diagnostic[] }
  | { ok: false; source: PositionedSource; diagnostics: Diagnostic[] };

type SpanLocator = (path: DocPath, part?: "key" | "value") => Span | undefined;

/** YAML aliases beyond this are an "alias bomb" (billions of laughs), not a workstream. */
const MAX_ALIAS_COUNT = 100;

export function formatOf(file: string): SourceFormat {
  return /\.ya?ml$/i.test(file) ? "yaml" : "json";
}

export function createSourceFile(path: string, text: string, locateSpan: SpanLocator = () => undefined): PositionedSource {
  let lineStarts: number[] | undefined;
  const position = (offset: number, length: number): SourceLocation => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (lineStarts[lo] ?? 0) + 1, offset, length };
  };
  return {
    path,
    text,
    locate(docPath, part) {
      const span = locateSpan(docPath, part);
      return span ? position(span.offset, span.length) : undefined;
    },
    position,
  };
}

export function parseSource(rawText: string, opts: { path: string; format: SourceFormat }): ParseResult {
  // A UTF-8 BOM is legal at the start of a file; editors do not count it as a column.
  const text = rawText.charCodeAt(0) === 0xfeff ? rawText.slice(1) : rawText;
  const diag = (source: PositionedSource, offset: number, length: number, message: string, code = "parse", fix?: string): Diagnostic => ({
    severity: "error",
    code,
    message,
    file: opts.path,
    location: source.position(offset, length),
    fix,
  });

  if (text.trim() === "") {
    const source = createSourceFile(opts.path, text);
    return { ok: false, source, diagnostics: [diag(source, 0, 0, "the file is empty", "empty-file", "run `ws init` for a starter workstream")] };
  }
  return opts.format === "json" ? parseJson(text, opts.path, diag) : parseYaml(text, opts.path, diag);
}

type Diag = (source: PositionedSource, offset: number, length: number, message: string, code?: string, fix?: string) => Diagnostic;

/**
 * JSON.parse first; the syntax checker (which says where a file is wrong, and finds duplicate
 * keys) runs only when JSON.parse refuses the text or the text names more keys than the parsed
 * value holds. On an 18 MB workstream the checker and its garbage cost as much as the parse.
 */
function parseJson(text: string, path: string, diag: Diag): ParseResult {
  const source = createSourceFile(path, text, createJsonLocator(text));
  let parsed: { value: unknown } | { error: unknown };
  try {
    parsed = { value: JSON.parse(text) as unknown };
  } catch (error) {
    parsed = { error };
  }
  if ("value" in parsed && noDuplicateKeys(text, parsed.value)) return { ok: true, value: parsed.value, source, diagnostics: [] };
  const issues = checkJsonSyntax(text);
  const diagnostics = issues.map((issue) => diag(source, issue.offset, issue.length, issue.message, issue.code, issue.fix));
  if (issues.some((issue) => issue.code === "parse")) return { ok: false, source, diagnostics };
  // JSON.parse refused what the checker accepts (its own limits): its error stands, as before.
  if ("error" in parsed) throw parsed.error;
  return { ok: true, value: parsed.value, source, diagnostics };
}

/**
 * Whether no object of a text JSON.parse accepted names a key twice. Every key is followed by a
 * colon, so when the text holds no more colons than the value holds keys there is none; colons
 * inside strings (`${env.X:-y}`, URLs) make it count the keys themselves.
 */
function noDuplicateKeys(text: string, value: unknown): boolean {
  const keys = keysInValue(value);
  let colons = 0;
  for (let i = text.indexOf(":"); i >= 0 && colons <= keys; i = text.indexOf(":", i + 1)) colons++;
  return colons === keys || keysInText(text) === keys;
}

/**
 * The property names in a text JSON.parse accepted: every string followed by a colon. Equal to
 * keysInValue exactly when no object names a key twice (a duplicate, or the subtree of one that
 * JSON.parse dropped, only ever makes the value hold fewer).
 */
export function keysInText(text: string): number {
  let keys = 0;
  for (let open = text.indexOf('"'); open >= 0; ) {
    let close = text.indexOf('"', open + 1);
    while (close > 0 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
    if (close < 0) break;
    let next = close + 1;
    while (isJsonSpace(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) === 0x3a) keys++;
    open = text.indexOf('"', next);
  }
  return keys;
}

/** An odd run of backslashes before a quote escapes it. */
function isEscaped(text: string, quote: number): boolean {
  let before = quote - 1;
  while (text.charCodeAt(before) === 0x5c) before--;
  return (quote - before) % 2 === 0;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The own keys of every object in a parsed JSON value (iterative: any depth). */
export function keysInValue(value: unknown): number {
  let keys = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== "object") continue;
    if (Array.isArray(item)) {
      for (const element of item) if (element !== null && typeof element === "object") stack.push(element);
      continue;
    }
    for (const key in item) {
      keys++;
      const member = (item as Record<string, unknown>)[key];
      if (member !== null && typeof member === "object") stack.push(member);
    }
  }
  return keys;
}

function parseYaml(text: string, path: string, diag: Diag): ParseResult {
  const doc = yaml().parseDocument(text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const source = createSourceFile(path, text, (docPath, part) => locateYaml(doc.contents, docPath, part));
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    diagnostics.push(diag(source, e.pos[0], e.pos[1] - e.pos[0], yamlMessage(e.message), e.code === "DUPLICATE_KEY" ? "duplicate-key" : "parse"));
  }
  for (const w of doc.warnings) {
    diagnostics.push({ ...diag(source, w.pos[0], w.pos[1] - w.pos[0], yamlMessage(w.message)), severity: "warning" });
  }
  if (doc.errors.length > 0) return { ok: false, source, diagnostics };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown, source, diagnostics };
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    // The yaml package throws ReferenceError both for the alias limit and for an alias whose
    // anchor is missing ("Unresolved alias ...: name"); the latter is a typo, not a bomb.
    const unresolved = /^Unresolved alias.*: (.+)$/.exec(error.message)?.[1];
    let offset = 0;
    const { visit } = yaml();
    visit(doc, {
      Alias(_key, node) {
        if (unresolved !== undefined && node.source !== unresolved) return undefined;
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    if (unresolved !== undefined) {
      diagnostics.push(diag(source, offset, unresolved.length + 1, `unknown alias "*${unresolved}": no anchor "&${unresolved}" before it`, "parse", `define "&${unresolved}" on an earlier value, or write the value out`));
      return { ok: false, source, diagnostics };
    }
    diagnostics.push(
      diag(source, offset, 0, `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refusing a possible "billion laughs" file`, "alias-limit", "write the repeated values out instead of using aliases"),
    );
    return { ok: false, source, diagnostics };
  }
}

function yamlMessage(message: string): string {
  // The yaml package catches its own stack overflow on absurdly nested input and reports it as is.
  if (/call stack/i.test(message)) return "the file is nested too deeply to parse";
  return message.replace(/ at line \d+, column \d+[\s\S]*$/, "").trim();
}

function locateYaml(root: unknown, path: DocPath, part: "key" | "value" = "value"): Span | undefined {
  let node: unknown = root;
  let keyNode: unknown;
  for (const segment of path) {
    if (yaml().isAlias(node)) return undefined;
    if (yaml().isMap(node)) {
      const pair = node.items.find((p) => yaml().isPair(p) && yaml().isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return undefined;
      keyNode = pair.key;
      node = pair.value;
    } else if (yaml().isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      keyNode = node;
    } else {
      return undefined;
    }
  }
  const target = (part === "key" && path.length > 0 ? keyNode : node) as YamlNode | null | undefined;
  const range = target?.range;
  if (!range) return part === "value" && path.length > 0 ? locateYaml(root, path, "key") : undefined;
  return { offset: range[0], length: range[1] - range[0] };
}

/** Location of `path`, or of its closest ancestor that exists (a missing key points at its object). */
export function locateNearest(source: SourceFile, path: DocPath, part: "key" | "value" = "value"): SourceLocation | undefined {
  for (let n = path.length; n >= 0; n--) {
    const found = source.locate(path.slice(0, n), n === path.length ? part : "value");
    if (found) return found;
  }
  return undefined;
}
