import type { DocPath } from "../diagnostics.js";

/**
 * Finds where a value (or its key) sits in a valid JSON text. Used instead of a YAML parse for
 * `.json` files because the yaml package needs seconds for a 10 MB file while `JSON.parse` needs
 * milliseconds; positions are only needed for the few values a diagnostic points at.
 *
 * Each container's children are indexed on first use and cached, so many lookups into one
 * large `steps` array scan it once. Iterative: no recursion, whatever the nesting depth.
 */

export interface Span {
  offset: number;
  length: number;
}

interface Entry {
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
}

type Children = { kind: "object"; entries: Map<string, Entry> } | { kind: "array"; entries: Entry[] };

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** End (exclusive) of the string whose opening quote is at `i`: native searches for the next quote. */
function skipString(text: string, i: number): number {
  for (let quote = text.indexOf('"', i + 1); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return quote + 1;
  }
  return text.length;
}

/** End (exclusive) of the value starting at `i`. Char codes, not one-character strings: a 10 000-step file is scanned twice (bench/: validation). */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 0x22) return skipString(text, i);
  if (first !== 0x7b && first !== 0x5b) {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
    }
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

export function createJsonLocator(text: string): (path: DocPath, part?: "key" | "value") => Span | undefined {
  const cache = new Map<number, Children>();

  const childrenOf = (start: number): Children | undefined => {
    const cached = cache.get(start);
    if (cached) return cached;
    const open = text[start];
    if (open !== "{" && open !== "[") return undefined;
    let i = skipWs(text, start + 1);
    let result: Children;
    if (open === "{") {
      const entries = new Map<string, Entry>();
      while (i < text.length && text[i] === '"') {
        const keyStart = i;
        const keyEnd = skipString(text, i);
        const raw = text.slice(keyStart, keyEnd);
        const key = raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const valueStart = skipWs(text, skipWs(text, keyEnd) + 1);
        const valueEnd = skipValue(text, valueStart);
        entries.set(key, { keyStart, keyEnd, valueStart, valueEnd });
        i = skipWs(text, valueEnd);
        if (text[i] === ",") i = skipWs(text, i + 1);
      }
      result = { kind: "object", entries };
    } else {
      const entries: Entry[] = [];
      while (i < text.length && text[i] !== "]") {
        const valueEnd = skipValue(text, i);
        entries.push({ keyStart: i, keyEnd: valueEnd, valueStart: i, valueEnd });
        i = skipWs(text, valueEnd);
        if (text[i] === ",") i = skipWs(text, i + 1);
      }
      result = { kind: "array", entries };
    }
    cache.set(start, result);
    return result;
  };

  let root: Entry | undefined;
  return (path, part = "value") => {
    if (!root) {
      const start = skipWs(text, 0);
      // The text is valid JSON: the root value ends where the trailing whitespace starts (no scan).
      root = { keyStart: start, keyEnd: start, valueStart: start, valueEnd: text.trimEnd().length };
    }
    let entry = root;
    for (const segment of path) {
      const children = childrenOf(entry.valueStart);
      if (!children) return undefined;
      const next = children.kind === "object" ? children.entries.get(String(segment)) : typeof segment === "number" ? children.entries[segment] : undefined;
      if (!next) return undefined;
      entry = next;
    }
    return part === "key" && path.length > 0
      ? { offset: entry.keyStart, length: entry.keyEnd - entry.keyStart }
      : { offset: entry.valueStart, length: entry.valueEnd - entry.valueStart };
  };
}
