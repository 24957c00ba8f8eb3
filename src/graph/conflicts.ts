import type { Workstream } from "../workstream/model.js";
import type { Graph } from "./graph.js";
import { reachability, type Reachability } from "./reachability.js";
import { compiledOverlap, compilePattern, literalPrefix, normalizeScopePattern, type CompiledPattern } from "../scope/patterns.js";

/** Two steps that may run at once and whose `file_scope`s can claim a common path. a < b. */
interface ScopeConflict {
  a: number;
  b: number;
  /** As written; the pair (patternA, patternB) that overlaps first in file_scope order. */
  patternA: string;
  patternB: string;
}

/**
 * The trie of buckets, flat: a bucket id indexes `entries`, `files` and `children`, an entry id
 * indexes `node` (its step), `k` (its index in the step's deduplicated list) and `text`. At
 * 50 000 steps there are ~125 000 entries; an object per entry and a bucket (and a key in `ids`)
 * per named file were most of the check's time and garbage.
 */
interface Trie {
  /** Buckets by their prefix joined with "/" (no literal segment holds one); "" is the root. */
  ids: Map<string, number>;
  /** What bucketFor gave last, and for which prefix. */
  lastPrefix: string | undefined;
  lastBucket: number;
  /** Bucket → the entries whose literal prefix it is; undefined until used. */
  entries: Array<number[] | undefined>;
  /**
   * Bucket → the glob-free entries (one path each) of the folder it names. Such an entry is a
   * leaf: nothing below its own bucket can match its path, so it needs no bucket of its own; it
   * is compared with the buckets above, the same path named by others, and entries whose literal
   * prefix is exactly its path (`src/a/**` for `src/a`).
   */
  files: Array<number[] | undefined>;
  children: Array<number[] | undefined>;
  node: number[];
  k: number[];
  text: string[];
}

/**
 * Pairs of steps not ordered by depends_on (nor by one sequential group) with overlapping
 * file_scope, sorted by (a, b); one conflict per pair. Patterns are bucketed in a trie by their
 * glob-free leading segments: two patterns can only overlap if one bucket is an ancestor of the
 * other, so each entry is compared only with the entries on its trie path, and reachability (pass
 * `reach` to reuse one) is asked only for those candidates. Entries that are absolute or climb
 * out of the project are skipped (the checks report them).
 *
 * A step's patterns are compiled only when one of its candidate pairs is not ordered: in a big
 * workstream nearly every candidate pair is a chain of depends_on, and compiling 125 000 scope
 * entries of 50 000 steps up front (segment objects that live until the end) was most of the
 * check's time and of its garbage collection (bench/scale.mjs).
 */
export function findScopeConflicts(ws: Workstream, g: Graph, reach?: Reachability): ScopeConflict[] {
  // Built on the first candidate pair: workstreams with disjoint scopes never pay for it.
  let ordering = reach;
  const ordered = (a: number, b: number): boolean => {
    ordering ??= reachability(g);
    return ordering.reaches(a, b) || ordering.reaches(b, a);
  };
  const n = g.ids.length;
  const sequential = sequentialGroupsOf(ws, g);
  const trie: Trie = { ids: new Map(), lastPrefix: undefined, lastBucket: -1, entries: [], files: [], children: [], node: [], k: [], text: [] };
  const root = bucketFor(trie, "");
  const scopes = ws.steps.map((step, node) => bucketScope(trie, step.fileScope, node));
  const compiled: Array<CompiledPattern[] | undefined> = [];
  const compiledOf = (node: number): CompiledPattern[] => (compiled[node] ??= scopes[node]!.map(compilePattern));

  // Candidate pairs come in runs of the same two steps (a step's entries sit together on a trie
  // path), so the last pair's verdict is kept: ordered, or already reported, means nothing to do.
  let lastA = -1;
  let lastB = -1;
  let settled = false;
  const reported = new Set<number>();
  const conflicts: ScopeConflict[] = [];
  const compare = (x: number, y: number): void => {
    if (trie.node[x] === trie.node[y]) return;
    const [first, second] = trie.node[x]! < trie.node[y]! ? [x, y] : [y, x];
    const a = trie.node[first]!;
    const b = trie.node[second]!;
    if (a !== lastA || b !== lastB) {
      lastA = a;
      lastB = b;
      settled = shareGroup(sequential, a, b) || ordered(a, b);
    }
    if (settled) return;
    const patternsA = compiledOf(a);
    const patternsB = compiledOf(b);
    if (!compiledOverlap(patternsA[trie.k[first]!]!, patternsB[trie.k[second]!]!)) return;
    settled = true;
    // Exact far past any workstream's size; only conflicting pairs are kept.
    if (reported.has(a * n + b)) return;
    reported.add(a * n + b);
    const [patternA, patternB] = firstOverlap(patternsA, patternsB) ?? [patternsA[trie.k[first]!]!, patternsB[trie.k[second]!]!];
    conflicts.push({ a, b, patternA: patternA.pattern, patternB: patternB.pattern });
  };

  // The entries of the buckets on the path from the root: a fixed array and its height, since
  // shortening an array (`length = mark`) is a runtime call, once per bucket. An entry with
  // several alternatives may sit in several buckets of one path: sized by bucket memberships.
  let memberships = 0;
  for (const entries of trie.entries) memberships += entries?.length ?? 0;
  const above = new Int32Array(memberships);
  let height = 0;
  const visit = (bucket: number): void => {
    const mark = height;
    const entries = trie.entries[bucket];
    if (entries !== undefined) {
      for (let i = 0; i < entries.length; i++) {
        for (let j = 0; j < mark; j++) compare(above[j]!, entries[i]!);
        for (let m = 0; m < i; m++) compare(entries[m]!, entries[i]!);
      }
      for (const entry of entries) above[height++] = entry;
    }
    const files = trie.files[bucket];
    if (files !== undefined) compareFiles(trie, files, trie.children[bucket] !== undefined, above.subarray(0, height), compare);
    for (const child of trie.children[bucket] ?? []) visit(child);
    height = mark;
  };
  visit(root);
  return conflicts.sort((x, y) => x.a - y.a || x.b - y.b);
}

/** A folder's glob-free entries against what can claim their paths (see Trie.files). */
function compareFiles(trie: Trie, files: number[], hasChildren: boolean, above: Int32Array, compare: (x: number, y: number) => void): void {
  // A long list is sorted by path, so the entries naming one path are neighbours; a short one
  // (most folders) is cheaper to scan whole than to sort.
  const sorted = files.length > SCAN_FILES;
  if (sorted) files.sort((x, y) => (trie.text[x]! < trie.text[y]! ? -1 : trie.text[x]! > trie.text[y]! ? 1 : x - y));
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const text = trie.text[file]!;
    for (let j = 0; j < above.length; j++) compare(above[j]!, file);
    if (sorted) for (let m = i - 1; m >= 0 && trie.text[files[m]!] === text; m--) compare(files[m]!, file);
    else for (let m = 0; m < i; m++) if (trie.text[files[m]!] === text) compare(files[m]!, file);
    const own = hasChildren ? trie.ids.get(text) : undefined;
    if (own !== undefined) for (const other of trie.entries[own] ?? []) compare(other, file);
  }
}

/** Up to this many glob-free entries in one folder are compared pairwise rather than sorted. */
export const SCAN_FILES = 16;

/** Buckets one step's usable entries; returns them deduplicated, as written. */
function bucketScope(trie: Trie, fileScope: string[], node: number): string[] {
  const patterns: string[] = [];
  for (const raw of fileScope) {
    const normalized = normalizeScopePattern(raw);
    if (normalized === undefined || patterns.includes(raw)) continue;
    const entry = trie.node.push(node) - 1;
    trie.k.push(patterns.push(raw) - 1);
    trie.text.push(raw);
    const prefix = normalized === raw ? plainPrefix(raw) : undefined;
    if (prefix === raw) {
      const slash = raw.lastIndexOf("/");
      (trie.files[bucketFor(trie, slash < 0 ? "" : raw.slice(0, slash))] ??= []).push(entry);
    } else if (prefix !== undefined) {
      (trie.entries[bucketFor(trie, prefix)] ??= []).push(entry);
    } else {
      const mine = new Set<number>();
      for (const alternative of compilePattern(raw).alternatives) mine.add(bucketFor(trie, literalPrefix(alternative).join("/")));
      for (const bucket of mine) (trie.entries[bucket] ??= []).push(entry);
    }
  }
  return patterns;
}

/**
 * The literal leading segments, joined, of an entry that needs no normalizing, read off the
 * string: what literalPrefix gives for each of compilePattern's alternatives (`src/mod` for
 * `src/mod/*.ts` and for `src/mod/*.{ts,tsx}`, `src/a.ts` for itself). Braces are read off the
 * string only after a glob of their segment, where no alternative can lengthen the prefix, and
 * when compilePattern cannot fall back to "anything" for them (a `/` inside, over 64
 * alternatives: 6 commas give at most 2⁶). Undefined for the other entries, which are compiled to
 * find their buckets (a brace first gives alternatives with different prefixes, a class or group
 * may span segments, a negation claims anything).
 */
export function plainPrefix(pattern: string): string | undefined {
  if (COMPILED.test(pattern)) return undefined;
  const glob = pattern.search(GLOB);
  if (glob < 0) return pattern;
  const first = pattern[glob];
  if (first === "{" || first === "}") return undefined;
  const brace = pattern.indexOf("{", glob);
  if (brace >= 0 && (pattern.includes("/", brace) || commas(pattern) > 6)) return undefined;
  const cut = pattern.lastIndexOf("/", glob);
  return cut < 0 ? "" : pattern.slice(0, cut);
}

function commas(pattern: string): number {
  let count = 0;
  for (let i = pattern.indexOf(","); i >= 0; i = pattern.indexOf(",", i + 1)) count++;
  return count;
}

/** Groups, classes, escapes and negations: compilePattern reads these. */
const COMPILED = /[()[\]\\!]/;
/** What makes a segment a glob for compileSegment (`**` included), and braces. */
const GLOB = /[*?|{}]/;

/** The trie finds pairs in bucket order; messages should name the patterns in file order. */
function firstOverlap(as: CompiledPattern[], bs: CompiledPattern[]): [CompiledPattern, CompiledPattern] | undefined {
  for (const a of as) for (const b of bs) if (compiledOverlap(a, b)) return [a, b];
  return undefined;
}

/** The bucket of a joined prefix, created with its missing ancestors ("" is the root). */
function bucketFor(trie: Trie, prefix: string): number {
  // A step's entries often share a folder: comparing with the last prefix skips hashing a new string.
  if (prefix === trie.lastPrefix) return trie.lastBucket;
  const bucket = trie.ids.get(prefix) ?? newBucket(trie, prefix);
  trie.lastPrefix = prefix;
  trie.lastBucket = bucket;
  return bucket;
}

function newBucket(trie: Trie, prefix: string): number {
  const bucket = trie.entries.push(undefined) - 1;
  trie.files.push(undefined);
  trie.children.push(undefined);
  trie.ids.set(prefix, bucket);
  if (prefix !== "") {
    const parent = bucketFor(trie, prefix.slice(0, Math.max(0, prefix.lastIndexOf("/"))));
    (trie.children[parent] ??= []).push(bucket);
  }
  return bucket;
}

/** node → indexes of the sequential groups it belongs to (members of one never run at once). */
function sequentialGroupsOf(ws: Workstream, g: Graph): number[][] {
  const groups: number[][] = g.ids.map(() => []);
  ws.stepGroups.forEach((group, k) => {
    if (group.execute !== "sequential") return;
    for (const id of group.steps) {
      const node = g.index.get(id);
      if (node !== undefined && !groups[node]!.includes(k)) groups[node]!.push(k);
    }
  });
  return groups;
}

function shareGroup(groups: number[][], a: number, b: number): boolean {
  const ga = groups[a]!;
  return ga.length > 0 && groups[b]!.some((k) => ga.includes(k));
}
