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

export function createJsonLocator(text: string): (path: DocPath, part?: "key" | "value") => Span | undefined {
  const cache = new Map<number, Children>();

  const skipWs = (i: number): number => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    return i;
  };

  const skipString = (i: number): number => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x22) return i + 1;
      else i++;
    }
    return i;
  };

  /** End (exclusive) of the value starting at `i`. */
  const skipValue = (i: number): number => {
    const first = text[i];
    if (first === '"') return skipString(i);
    if (first !== "{" && first !== "[") {
      while (i < text.length && !",]} \t\r\n".includes(text[i] ?? "")) i++;
      return i;
    }
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i = skipString(i);
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  };

  const childrenOf = (start: number): Children | undefined => {
    const cached = cache.get(start);
    if (cached) return cached;
    const open = text[start];
    if (open !== "{" && open !== "[") return undefined;
    let i = skipWs(start + 1);
    let result: Children;
    if (open === "{") {
      const entries = new Map<string, Entry>();
      while (i < text.length && text[i] === '"') {
        const keyStart = i;
        const keyEnd = skipString(i);
        const raw = text.slice(keyStart, keyEnd);
        const key = raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const valueStart = skipWs(skipWs(keyEnd) + 1);
        const valueEnd = skipValue(valueStart);
        entries.set(key, { keyStart, keyEnd, valueStart, valueEnd });
        i = skipWs(valueEnd);
        if (text[i] === ",") i = skipWs(i + 1);
      }
      result = { kind: "object", entries };
    } else {
      const entries: Entry[] = [];
      while (i < text.length && text[i] !== "]") {
        const valueEnd = skipValue(i);
        entries.push({ keyStart: i, keyEnd: valueEnd, valueStart: i, valueEnd });
        i = skipWs(valueEnd);
        if (text[i] === ",") i = skipWs(i + 1);
      }
      result = { kind: "array", entries };
    }
    cache.set(start, result);
    return result;
  };

  let root: Entry | undefined;
  return (path, part = "value") => {
    if (!root) {
      const start = skipWs(0);
      root = { keyStart: start, keyEnd: start, valueStart: start, valueEnd: skipValue(start) };
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
