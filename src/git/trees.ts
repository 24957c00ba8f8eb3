import { readObject } from "./object-reader.js";
import { writeTreeLater } from "./object-writer.js";

/**
 * Tree objects read, edited and written in process (issue 32): the tree of a step's commit and
 * of a join is made from the trees it changes, each read once through a long-lived `cat-file
 * --batch` and written through a long-lived `hash-object -t tree`, instead of an `update-index`,
 * a `write-tree` or a `merge-tree` process each. A tree is named by its content, so what is read
 * or written once is known for the rest of the process, in every repository that has it.
 *
 * Only trees git itself would write are edited here: modes as git writes them and entries in git's
 * order, no name twice. Anything else (an old tree with a mode like 100664) makes the caller leave
 * the work to git, whose result ws cannot predict for it.
 */

/** One entry of a tree: its mode as git writes it, its name's bytes as a latin1 string (one
 *  character a byte, so names compare as git compares them), the id of what it names. */
export interface TreeEntry {
  mode: string;
  name: string;
  id: string;
}

export const TREE_MODE = "40000";
export const GITLINK_MODE = "160000";
const MODES = new Set([TREE_MODE, "100644", "100755", "120000", GITLINK_MODE]);

const known = new Map<string, readonly TreeEntry[]>();

/** git's order of tree entries (base_name_compare): by bytes, a tree's name read as if it ended in "/". */
export function compareEntries(a: TreeEntry, b: TreeEntry): number {
  const x = a.mode === TREE_MODE ? `${a.name}/` : a.name;
  const y = b.mode === TREE_MODE ? `${b.name}/` : b.name;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The entries of a tree object's bytes; undefined when they are not as git writes them. */
export function parseTree(content: Buffer, idBytes: number): TreeEntry[] | undefined {
  const entries: TreeEntry[] = [];
  for (let at = 0; at < content.length; ) {
    const space = content.indexOf(0x20, at);
    const nul = space < 0 ? -1 : content.indexOf(0, space + 1);
    if (nul < 0 || nul + 1 + idBytes > content.length) return undefined;
    entries.push({ mode: content.toString("latin1", at, space), name: content.toString("latin1", space + 1, nul), id: content.toString("hex", nul + 1, nul + 1 + idBytes) });
    at = nul + 1 + idBytes;
  }
  return isCanonical(entries) ? entries : undefined;
}

function isCanonical(entries: readonly TreeEntry[]): boolean {
  const names = new Set<string>();
  for (const [k, entry] of entries.entries()) {
    if (!MODES.has(entry.mode) || entry.name === "" || entry.name.includes("/") || names.has(entry.name)) return false;
    names.add(entry.name);
    const before = entries[k - 1];
    if (before !== undefined && compareEntries(before, entry) >= 0) return false;
  }
  return true;
}

/** A tree object's bytes, as git writes them: `<mode> <name>\0<raw id>` per entry. */
export function serializeTree(entries: readonly TreeEntry[]): Buffer {
  return Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`, "latin1"), Buffer.from(e.id, "hex")]));
}

/** The entries of tree `id` (read from `repo` once); undefined when it cannot be read or is not as git writes it. */
export async function treeEntries(repo: string, id: string): Promise<readonly TreeEntry[] | undefined> {
  const cached = known.get(id);
  if (cached !== undefined) return cached;
  const object = await readObject(repo, id);
  if (object?.type !== "tree" || object.id !== id) return undefined;
  const entries = parseTree(object.content, id.length / 2);
  if (entries !== undefined) known.set(id, entries);
  return entries;
}

/** The tree a commit (or any tree-ish) names, read through the long-lived reader; undefined when it cannot tell. */
export async function treeOfCommit(repo: string, commit: string): Promise<string | undefined> {
  const object = await readObject(repo, `${commit}^{tree}`);
  if (object?.type !== "tree") return undefined;
  const entries = parseTree(object.content, object.id.length / 2);
  if (entries !== undefined) known.set(object.id, entries);
  return object.id;
}

/**
 * A tree of `entries` (sorted here) handed to `repo`'s long-lived writer, named in process
 * (`hexLength`: the store's ids, 40 or 64 digits); the commit made of it waits until git has it
 * (object-writer.ts). Undefined when the entries are not a tree git would write.
 */
export function writeTree(repo: string, entries: readonly TreeEntry[], hexLength: number): string | undefined {
  const sorted = [...entries].sort(compareEntries);
  if (!isCanonical(sorted)) return undefined;
  const id = writeTreeLater(repo, serializeTree(sorted), hexLength);
  known.set(id, sorted);
  return id;
}

/** What a path becomes: a blob (or link) of this mode, or nothing (deleted). */
export type PathChange = { mode: string; id: string } | null;

/**
 * Tree `tree` with `changes` made (paths `/`-separated from its top, names as latin1 bytes), as
 * `update-index --add --remove` of those paths and `write-tree` would make it: a folder left
 * empty is gone, a new one is made. Undefined for what this does not decide: a path that is a
 * folder or a submodule in the tree, a file where a folder is needed (git refuses both), a name
 * that differs from one beside it only by case (core.ignoreCase would make it that one).
 */
export async function editTree(repo: string, tree: string, changes: ReadonlyMap<string, PathChange>): Promise<string | undefined> {
  const edits = [...changes].map(([file, change]) => ({ parts: file.split("/"), change }));
  const result = await rewrite(repo, tree, edits, tree.length);
  return result === null ? writeTree(repo, [], tree.length) : result;
}

interface Edit {
  parts: string[];
  change: PathChange;
}

/** The tree below one folder rewritten; null when it ends up empty. */
async function rewrite(repo: string, tree: string | undefined, edits: readonly Edit[], hexLength: number): Promise<string | null | undefined> {
  const entries = tree === undefined ? [] : await treeEntries(repo, tree);
  if (entries === undefined) return undefined;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const groups = new Map<string, { here: PathChange | undefined; below: Edit[] }>();
  for (const { parts, change } of edits) {
    const [name = "", ...rest] = parts;
    const group = groups.get(name) ?? { here: undefined, below: [] };
    groups.set(name, group);
    if (rest.length === 0) group.here = change;
    else group.below.push({ parts: rest, change });
  }
  for (const [name, { here, below }] of groups) {
    const existing = byName.get(name);
    if (existing === undefined && [...byName.keys()].some((other) => other.toLowerCase() === name.toLowerCase())) return undefined;
    if (here !== undefined) {
      if (below.length > 0 || existing?.mode === TREE_MODE || existing?.mode === GITLINK_MODE) return undefined;
      if (here === null) byName.delete(name);
      else byName.set(name, { mode: here.mode, name, id: here.id });
      continue;
    }
    if (existing !== undefined && existing.mode !== TREE_MODE) return undefined;
    if (existing === undefined && below.every((edit) => edit.change === null)) continue;
    const sub = await rewrite(repo, existing?.id, below, hexLength);
    if (sub === undefined) return undefined;
    if (sub === null) byName.delete(name);
    else byName.set(name, { mode: TREE_MODE, name, id: sub });
  }
  const next = [...byName.values()].sort(compareEntries);
  if (tree !== undefined && sameEntries(next, entries)) return tree;
  return next.length === 0 ? null : writeTree(repo, next, hexLength);
}

function sameEntries(a: readonly TreeEntry[], b: readonly TreeEntry[]): boolean {
  return a.length === b.length && a.every((e, k) => e.mode === b[k]?.mode && e.name === b[k]?.name && e.id === b[k]?.id);
}
