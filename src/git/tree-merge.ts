import { GITLINK_MODE, TREE_MODE, treeEntries, writeTree, type TreeEntry } from "./trees.js";

/**
 * The tree `git merge-tree --write-tree` makes of trees `ours` and `theirs` over their merge
 * base's tree `base`, made in process when the answer is certain (issue 32: the join of two
 * steps' work that changed different files, a merge-tree process each on the critical path).
 *
 * Certain means: no path changed on both sides in different ways (that is a content merge or a
 * conflict, git's to make), no path turned from a folder into a file or between a file, a link
 * and a submodule, and neither side both added and deleted paths: only then can git's rename
 * detection (and with it directory renames) find nothing, so that each path simply takes the
 * side that changed it. Undefined otherwise: the caller asks git.
 */
export async function mergeTreesInProcess(repo: string, base: string, ours: string, theirs: string): Promise<string | undefined> {
  if (ours === theirs || base === theirs) return ours;
  if (base === ours) return theirs;
  for (const side of [ours, theirs]) {
    const count = { added: 0, deleted: 0 };
    if (!(await changesOf(repo, base, side, count)) || (count.added > 0 && count.deleted > 0)) return undefined;
  }
  const merged = await merge3(repo, base, ours, theirs);
  return merged === null ? writeTree(repo, [], base.length) : merged;
}

/** The kind of an entry, for what git sees as a type change. */
function kind(mode: string): string {
  return mode === TREE_MODE ? "tree" : mode === GITLINK_MODE ? "submodule" : mode === "120000" ? "link" : "file";
}

function same(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.mode === b.mode && a.id === b.id;
}

async function entriesOf(repo: string, tree: string | undefined): Promise<Map<string, TreeEntry> | undefined> {
  if (tree === undefined) return new Map();
  const entries = await treeEntries(repo, tree);
  return entries && new Map(entries.map((e) => [e.name, e]));
}

/** Counts what `side` added and deleted against `base` (false: a type change, or a tree ws cannot read). */
async function changesOf(repo: string, base: string | undefined, side: string | undefined, count: { added: number; deleted: number }): Promise<boolean> {
  const [from, to] = [await entriesOf(repo, base), await entriesOf(repo, side)];
  if (from === undefined || to === undefined) return false;
  for (const name of new Set([...from.keys(), ...to.keys()])) {
    const [a, b] = [from.get(name), to.get(name)];
    if (same(a, b)) continue;
    if (a === undefined) count.added++;
    else if (b === undefined) count.deleted++;
    else if (kind(a.mode) !== kind(b.mode)) return false;
    else if (a.mode === TREE_MODE && !(await changesOf(repo, a.id, b.id, count))) return false;
  }
  return true;
}

/** One folder merged; null when it ends up empty, undefined when git must decide. */
async function merge3(repo: string, base: string | undefined, ours: string | undefined, theirs: string | undefined): Promise<string | null | undefined> {
  if (ours === theirs || base === theirs) return ours ?? null;
  if (base === ours) return theirs ?? null;
  const [b, o, t] = [await entriesOf(repo, base), await entriesOf(repo, ours), await entriesOf(repo, theirs)];
  if (b === undefined || o === undefined || t === undefined) return undefined;
  const merged: TreeEntry[] = [];
  for (const name of new Set([...b.keys(), ...o.keys(), ...t.keys()])) {
    const [eb, eo, et] = [b.get(name), o.get(name), t.get(name)];
    let entry: TreeEntry | undefined;
    if (same(eo, et) || same(eb, et)) entry = eo;
    else if (same(eb, eo)) entry = et;
    else if (eo?.mode === TREE_MODE && et?.mode === TREE_MODE && (eb === undefined || eb.mode === TREE_MODE)) {
      const sub = await merge3(repo, eb?.id, eo.id, et.id);
      if (sub === undefined) return undefined;
      entry = sub === null ? undefined : { mode: TREE_MODE, name, id: sub };
    } else return undefined;
    if (entry !== undefined) merged.push(entry);
  }
  if (merged.length === 0) return null;
  return writeTree(repo, merged, (base ?? ours ?? theirs ?? "").length);
}
