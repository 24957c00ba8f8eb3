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

/** One scope entry of one step, bucketed by its literal leading segments. */
interface Entry {
  node: number;
  pattern: CompiledPattern;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  entries: Entry[];
}

/**
 * Pairs of steps not ordered by depends_on (nor by one sequential group) with overlapping
 * file_scope, sorted by (a, b); one conflict per pair. Patterns are bucketed in a trie by their
 * glob-free leading segments: two patterns can only overlap if one bucket is an ancestor of the
 * other, so each entry is compared only with the entries on its trie path, and reachability (an
 * O(1) bitset probe; pass `reach` to reuse one) is asked only for those candidates. Entries that
 * are absolute or climb out of the project are skipped (the checks report them).
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
  const root: TrieNode = { children: new Map(), entries: [] };
  const compiled = ws.steps.map((step) =>
    [...new Set(step.fileScope)].filter((raw) => normalizeScopePattern(raw) !== undefined).map(compilePattern),
  );
  compiled.forEach((patterns, node) => {
    for (const pattern of patterns) {
      const buckets = new Set<TrieNode>();
      for (const alternative of pattern.alternatives) buckets.add(bucketFor(root, literalPrefix(alternative)));
      for (const bucket of buckets) bucket.entries.push({ node, pattern });
    }
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
    if (!compiledOverlap(first.pattern, second.pattern)) return;
    decided.add(key);
    const [patternA, patternB] = firstOverlap(compiled[first.node]!, compiled[second.node]!) ?? [first.pattern, second.pattern];
    conflicts.push({ a: first.node, b: second.node, patternA: patternA.pattern, patternB: patternB.pattern });
  };

  const above: Entry[] = [];
  const visit = (trie: TrieNode): void => {
    trie.entries.forEach((entry, k) => {
      for (const other of above) compare(other, entry);
      for (let m = 0; m < k; m++) compare(trie.entries[m]!, entry);
    });
    const mark = above.length;
    above.push(...trie.entries);
    for (const child of trie.children.values()) visit(child);
    above.length = mark;
  };
  visit(root);
  return conflicts.sort((x, y) => x.a - y.a || x.b - y.b);
}

/** The trie finds pairs in bucket order; messages should name the patterns in file order. */
function firstOverlap(as: CompiledPattern[], bs: CompiledPattern[]): [CompiledPattern, CompiledPattern] | undefined {
  for (const a of as) for (const b of bs) if (compiledOverlap(a, b)) return [a, b];
  return undefined;
}

function bucketFor(root: TrieNode, prefix: string[]): TrieNode {
  let trie = root;
  for (const segment of prefix) {
    let child = trie.children.get(segment);
    if (child === undefined) {
      child = { children: new Map(), entries: [] };
      trie.children.set(segment, child);
    }
    trie = child;
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
