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

/** One scope entry of one step (its index in the step's deduplicated list), bucketed by its literal leading segments. */
interface Entry {
  node: number;
  k: number;
}

/** A bucket; both lists stay undefined until used (most buckets are leaves of one entry). */
interface TrieNode {
  children: TrieNode[] | undefined;
  entries: Entry[] | undefined;
}

/**
 * Pairs of steps not ordered by depends_on (nor by one sequential group) with overlapping
 * file_scope, sorted by (a, b); one conflict per pair. Patterns are bucketed in a trie by their
 * glob-free leading segments: two patterns can only overlap if one bucket is an ancestor of the
 * other, so each entry is compared only with the entries on its trie path, and reachability (an
 * O(1) bitset probe; pass `reach` to reuse one) is asked only for those candidates. Entries that
 * are absolute or climb out of the project are skipped (the checks report them).
 *
 * A step's patterns are compiled only when one of its candidate pairs is not ordered: in a big
 * workstream nearly every candidate pair is a chain of depends_on, and compiling 125 000 scope
 * entries of 50 000 steps up front (segment objects that live until the end) was most of the
 * check's time and of its garbage collection (bench/scale.mjs).
 */
export function findScopeConflicts(ws: Workstream, g: Graph, reach?: Reachability): ScopeConflict[] {
  // Built on the first candidate pair: workstreams with disjoint scopes never pay for the bitsets.
  let ordering = reach;
  const ordered = (a: number, b: number): boolean => {
    ordering ??= reachability(g);
    return ordering.reaches(a, b) || ordering.reaches(b, a);
  };
  const n = g.ids.length;
  const sequential = sequentialGroupsOf(ws, g);
  // Buckets by their prefix joined with "/" (no literal segment holds one): one map for the
  // whole trie rather than one per node, which at 50 000 steps was ~150 000 maps.
  const buckets = new Map<string, TrieNode>();
  const root = bucketFor(buckets, "");
  const scopes: string[][] = [];
  const compiled: Array<CompiledPattern[] | undefined> = [];
  const compiledOf = (node: number): CompiledPattern[] => (compiled[node] ??= scopes[node]!.map(compilePattern));
  ws.steps.forEach((step, node) => {
    const patterns: string[] = [];
    for (const raw of step.fileScope) {
      const normalized = normalizeScopePattern(raw);
      if (normalized === undefined || patterns.includes(raw)) continue;
      const k = patterns.push(raw) - 1;
      const prefix = normalized === raw ? plainPrefix(raw) : undefined;
      if (prefix !== undefined) {
        (bucketFor(buckets, prefix).entries ??= []).push({ node, k });
        continue;
      }
      const mine = new Set<TrieNode>();
      for (const alternative of compilePattern(raw).alternatives) mine.add(bucketFor(buckets, literalPrefix(alternative).join("/")));
      for (const bucket of mine) (bucket.entries ??= []).push({ node, k });
    }
    scopes.push(patterns);
  });

  const decided = new Set<number>();
  const conflicts: ScopeConflict[] = [];
  const compare = (x: Entry, y: Entry): void => {
    if (x.node === y.node) return;
    const [first, second] = x.node < y.node ? [x, y] : [y, x];
    const key = first.node * n + second.node;
    if (decided.has(key)) return;
    if (shareGroup(sequential, first.node, second.node) || ordered(first.node, second.node)) {
      decided.add(key);
      return;
    }
    const patternsA = compiledOf(first.node);
    const patternsB = compiledOf(second.node);
    if (!compiledOverlap(patternsA[first.k]!, patternsB[second.k]!)) return;
    decided.add(key);
    const [patternA, patternB] = firstOverlap(patternsA, patternsB) ?? [patternsA[first.k]!, patternsB[second.k]!];
    conflicts.push({ a: first.node, b: second.node, patternA: patternA.pattern, patternB: patternB.pattern });
  };

  const above: Entry[] = [];
  const visit = (trie: TrieNode): void => {
    const entries = trie.entries ?? [];
    entries.forEach((entry, k) => {
      for (const other of above) compare(other, entry);
      for (let m = 0; m < k; m++) compare(entries[m]!, entry);
    });
    const mark = above.length;
    above.push(...entries);
    for (const child of trie.children ?? []) visit(child);
    above.length = mark;
  };
  visit(root);
  return conflicts.sort((x, y) => x.a - y.a || x.b - y.b);
}

/**
 * The literal leading segments, joined, of an entry that needs no normalizing and has no brace,
 * group, class or negation (`src/mod` for `src/mod/*.ts`, `src/a.ts` for itself): what
 * compilePattern's single alternative would give to literalPrefix, read off the string.
 * Undefined for the other entries, which are compiled to find their buckets (braces give several
 * alternatives, a class or group may span segments, a negation claims anything).
 */
function plainPrefix(pattern: string): string | undefined {
  if (SPECIAL.test(pattern)) return undefined;
  const glob = pattern.search(GLOB);
  if (glob < 0) return pattern;
  const cut = pattern.lastIndexOf("/", glob);
  return cut < 0 ? "" : pattern.slice(0, cut);
}

/** What makes compilePattern do more than split a pattern into segments. */
const SPECIAL = /[{}()[\]\\!]/;
/** What makes a segment without SPECIAL characters a glob for compileSegment (`**` included). */
const GLOB = /[*?|]/;

/** The trie finds pairs in bucket order; messages should name the patterns in file order. */
function firstOverlap(as: CompiledPattern[], bs: CompiledPattern[]): [CompiledPattern, CompiledPattern] | undefined {
  for (const a of as) for (const b of bs) if (compiledOverlap(a, b)) return [a, b];
  return undefined;
}

/** The bucket of a joined prefix, created with its missing ancestors ("" is the root). */
function bucketFor(buckets: Map<string, TrieNode>, prefix: string): TrieNode {
  let trie = buckets.get(prefix);
  if (trie !== undefined) return trie;
  trie = { children: undefined, entries: undefined };
  buckets.set(prefix, trie);
  if (prefix !== "") {
    const parent = bucketFor(buckets, prefix.slice(0, Math.max(0, prefix.lastIndexOf("/"))));
    (parent.children ??= []).push(trie);
  }
  return trie;
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
