import picomatch from "picomatch";

/*
 * Semantics of a `file_scope` entry (shared by the conflict check and the run-time scope check):
 * picomatch with `dot: true`, after normalizing: leading `./`, `.` and empty segments are dropped,
 * `..` is resolved, and a trailing `/` means everything beneath (`src/` is `src/**`). A glob-free
 * entry names exactly one path: `src/utils` does not claim `src/utils/a.ts`. An entry also claims
 * the path spelled exactly like it, so `app/[id]/page.tsx` claims that file although picomatch
 * reads `[id]` as a character class.
 */

/** One path segment of a pattern, compiled for overlap tests. */
type Segment =
  | { kind: "globstar" }
  | { kind: "literal"; text: string }
  | { kind: "glob"; text: string; prefix: string; suffix: string };

/** A pattern as the overlap test sees it: one segment list per brace alternative. */
export interface CompiledPattern {
  pattern: string;
  alternatives: Segment[][];
}

const GLOBSTAR: Segment = { kind: "globstar" };
const ANYTHING: Segment[] = [GLOBSTAR];
/** Brace expansion beyond this many alternatives falls back to "anything" (still sound). */
const MAX_ALTERNATIVES = 64;

/** Whether `file` (relative to the project root) is claimed by one of `patterns`. */
export function matchesScope(file: string, patterns: string[]): boolean {
  const path = normalizePath(file);
  if (path === undefined) return false;
  return patterns.some((pattern) => matcherFor(pattern)(path));
}

/**
 * Whether some path can match both patterns. Sound: never false when a common path exists. Exact
 * unless two globs meet in the same segment; there only their literal prefixes and suffixes are
 * compared (`*.ts` vs `*.js` don't overlap, `a*` vs `*b` do).
 */
export function patternsOverlap(a: string, b: string): boolean {
  return compiledOverlap(compilePattern(a), compilePattern(b));
}

export function compiledOverlap(a: CompiledPattern, b: CompiledPattern): boolean {
  return a.alternatives.some((x) => b.alternatives.some((y) => segmentsOverlap(x, y)));
}

/**
 * Normalizes a scope entry: drops `./`, `.` and empty segments, resolves `..`, turns a trailing
 * `/` into `/**`. Undefined when the entry is absolute or climbs out of the project.
 */
export function normalizeScopePattern(pattern: string): string | undefined {
  if (isAbsolute(pattern)) return undefined;
  if (pattern !== "" && !mayNeedNormalizing(pattern)) return pattern;
  const negated = pattern.startsWith("!");
  const body = negated ? pattern.slice(1) : pattern;
  const parts: string[] = [];
  for (const part of body.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  if (parts.length === 0 || body.endsWith("/")) parts.push("**");
  return (negated ? "!" : "") + parts.join("/");
}

/**
 * Whether an entry may hold `.`/`..`/empty segments, a trailing `/` or a leading `!`: a few
 * substring scans, cheaper than a regular expression on the 125 000 entries of a big workstream.
 * Hidden names (`src/.env`) answer yes too; the slow path then leaves them as they are.
 */
function mayNeedNormalizing(pattern: string): boolean {
  const first = pattern.charCodeAt(0);
  return first === 0x21 || first === 0x2e || pattern.endsWith("/") || pattern.includes("/.") || pattern.includes("//");
}

export function isAbsolute(pattern: string): boolean {
  return pattern.startsWith("/") || pattern.startsWith("\\") || /^[A-Za-z]:[\\/]/.test(pattern);
}

/**
 * Why normalizeScopePattern would refuse an entry, without building the normalized string: the
 * graph check asks this of every file_scope and read_only entry (250 000 at 50 000 steps, many
 * with a `..`, which made normalizing split and join each one).
 */
export function scopeEntryProblem(pattern: string): "absolute" | "outside" | undefined {
  // Most entries have neither a leading slash, backslash or drive letter nor a `..`: a few
  // character reads settle them.
  const first = pattern.charCodeAt(0);
  if (first !== 0x2f && first !== 0x5c && pattern.charCodeAt(1) !== 0x3a && !pattern.includes("..")) return undefined;
  if (isAbsolute(pattern)) return "absolute";
  // The segments normalizeScopePattern keeps, counted: a `..` with none left climbs out.
  let depth = 0;
  let start = pattern.startsWith("!") ? 1 : 0;
  while (start <= pattern.length) {
    const slash = pattern.indexOf("/", start);
    const end = slash < 0 ? pattern.length : slash;
    const length = end - start;
    const dot = length > 0 && length <= 2 && pattern.charCodeAt(start) === 0x2e && pattern.charCodeAt(end - 1) === 0x2e;
    if (dot && length === 2) {
      if (depth === 0) return "outside";
      depth--;
    } else if (length > 0 && !dot) {
      depth++;
    }
    start = end + 1;
  }
  return undefined;
}

/** Literal leading segments shared by every path the alternative matches (for bucketing). */
export function literalPrefix(segments: Segment[]): string[] {
  const prefix: string[] = [];
  for (const segment of segments) {
    if (segment.kind !== "literal") break;
    prefix.push(segment.text);
  }
  return prefix;
}

export function compilePattern(pattern: string): CompiledPattern {
  const normalized = normalizeScopePattern(pattern) ?? pattern;
  if (normalized.startsWith("!")) return { pattern, alternatives: [ANYTHING] };
  const expanded = expandBraces(normalized);
  if (expanded === undefined) return { pattern, alternatives: [ANYTHING] };
  const alternatives: Segment[][] = [];
  for (const text of expanded) {
    if (/[([]/.test(text) && spansSegments(text)) return { pattern, alternatives: [ANYTHING] };
    const segments = text.split("/").filter((part) => part !== "" && part !== ".").map(compileSegment);
    alternatives.push(segments);
  }
  return { pattern, alternatives };
}

function compileSegment(text: string): Segment {
  if (text === "**") return GLOBSTAR;
  if (!MAYBE_GLOB.test(text)) return { kind: "literal", text };
  let first = -1;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    if (!isGlobChar(text, i)) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) return { kind: "literal", text };
  return { kind: "glob", text, prefix: text.slice(0, first), suffix: text.slice(last + 1) };
}

/** Any character isGlobChar might accept; most segments have none and skip the scan. */
const MAYBE_GLOB = /[*?[\]{}()|\\]|[!+@]\(/;

function isLiteral(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isGlobChar(text, i)) return false;
  return true;
}

function isGlobChar(text: string, i: number): boolean {
  const c = text[i]!;
  if ("*?[]{}()|\\".includes(c)) return true;
  return "!+@".includes(c) && text[i + 1] === "(";
}

/** An extglob or class holding a `/` matches across segments; the segment model can't follow it. */
function spansSegments(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === "(" || c === "[") depth++;
    else if ((c === ")" || c === "]") && depth > 0) depth--;
    else if (c === "/" && depth > 0) return true;
  }
  return false;
}

/** Segment lists overlap: dynamic programming over (i, j), `**` absorbing any number of segments. */
function segmentsOverlap(a: Segment[], b: Segment[]): boolean {
  const la = a.length;
  const lb = b.length;
  const width = lb + 1;
  const table = new Uint8Array((la + 1) * width);
  for (let i = la; i >= 0; i--) {
    for (let j = lb; j >= 0; j--) {
      const x = a[i];
      const y = b[j];
      let result: boolean;
      if (x === undefined && y === undefined) result = true;
      else if (x?.kind === "globstar") result = table[(i + 1) * width + j] === 1 || (y !== undefined && table[i * width + j + 1] === 1);
      else if (y?.kind === "globstar") result = table[i * width + j + 1] === 1 || (x !== undefined && table[(i + 1) * width + j] === 1);
      else if (x === undefined || y === undefined) result = false;
      else result = table[(i + 1) * width + j + 1] === 1 && segmentOverlap(x, y);
      table[i * width + j] = result ? 1 : 0;
    }
  }
  return table[0] === 1;
}

function segmentOverlap(x: Segment, y: Segment): boolean {
  if (x.kind === "literal" && y.kind === "literal") return x.text === y.text;
  if (x.kind === "literal" && y.kind === "glob") return segmentMatcher(y.text)(x.text);
  if (x.kind === "glob" && y.kind === "literal") return segmentMatcher(x.text)(y.text);
  if (x.kind === "glob" && y.kind === "glob") {
    return compatible(x.prefix, y.prefix, (s, t) => s.startsWith(t)) && compatible(x.suffix, y.suffix, (s, t) => s.endsWith(t));
  }
  return true;
}

/** A common string starts (ends) with both, so one must be a prefix (suffix) of the other. */
function compatible(s: string, t: string, contains: (longer: string, shorter: string) => boolean): boolean {
  return s.length >= t.length ? contains(s, t) : contains(t, s);
}

/**
 * Expands `{a,b}` (nested too) into alternatives. A brace without a top-level comma (a range
 * `{1..9}` or `{x}`) becomes `*`, which matches at least what it does within a segment. Undefined
 * when the result would be too large or a comma-less brace holds a `/`: the caller then assumes
 * "anything".
 */
function expandBraces(pattern: string): string[] | undefined {
  const open = pattern.indexOf("{");
  if (open < 0) return [pattern];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      close = i;
      break;
    } else if (c === "," && depth === 1) commas.push(i);
  }
  if (close < 0) return [pattern];
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  let options: string[];
  if (commas.length === 0) {
    const inner = pattern.slice(open + 1, close);
    if (inner.includes("/")) return undefined;
    options = ["*"];
  } else {
    const bounds = [open, ...commas, close];
    options = bounds.slice(1).map((end, k) => pattern.slice(bounds[k]! + 1, end));
  }
  const results: string[] = [];
  for (const option of options) {
    const expanded = expandBraces(head + option + tail);
    if (expanded === undefined) return undefined;
    results.push(...expanded);
    if (results.length > MAX_ALTERNATIVES) return undefined;
  }
  return results;
}

function normalizePath(file: string): string | undefined {
  const normalized = normalizeScopePattern(file);
  return normalized === undefined || normalized.endsWith("**") ? undefined : normalized;
}

const matchers = new Map<string, (path: string) => boolean>();

function matcherFor(pattern: string): (path: string) => boolean {
  let matcher = matchers.get(pattern);
  if (matcher !== undefined) return matcher;
  const normalized = normalizeScopePattern(pattern);
  if (normalized === undefined) {
    matcher = () => false;
  } else if (!normalized.startsWith("!") && isLiteral(normalized)) {
    matcher = (path) => path === normalized;
  } else {
    const glob = picomatch(normalized, { dot: true });
    matcher = (path) => path === normalized || glob(path);
  }
  matchers.set(pattern, matcher);
  return matcher;
}

const segmentMatchers = new Map<string, (text: string) => boolean>();

function segmentMatcher(glob: string): (text: string) => boolean {
  let matcher = segmentMatchers.get(glob);
  if (matcher === undefined) {
    matcher = picomatch(glob, { dot: true });
    segmentMatchers.set(glob, matcher);
  }
  return matcher;
}
