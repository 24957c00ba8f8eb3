import { chmod, lstat, mkdir, rm, rmdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { changedBetween, parseEntry, DELETED, DIRECTORY, HEAD_KEY, type Snapshot } from "./changes.js";
import { headCommit, repoPrefix } from "./repo.js";
import { binaryDiff, git, gitWithIndexLock, splitNul } from "./run-git.js";
import { scratchTree } from "./scratch-index.js";
import { matchesScope } from "../scope/patterns.js";

export interface ScopeCheckResult {
  violations: string[];
  patchFile?: string;
}

interface Entry {
  sha: string;
  mode: string;
}

/** Files the attempt changed outside `fileScope` (and outside `othersScopes`, the scopes of steps
 *  running at the same time in the same tree, whose edits aren't this step's): write them as a
 *  patch to `patchFile` (a `git diff --binary` that includes new files, paths relative to the
 *  repository root), then restore each to its `before` state (tracked & unchanged before →
 *  checkout from HEAD; new → delete; dirty before → restore the blob from `before`). */
export async function enforceScope(opts: {
  cwd: string;
  before: Snapshot;
  after: Snapshot;
  fileScope: string[];
  othersScopes: string[][];
  patchFile: string;
  /** Changed files already dealt with (reverted by the repo guard). */
  skip?: string[];
}): Promise<ScopeCheckResult> {
  const skip = new Set(opts.skip);
  const outside = changedBetween(opts.before, opts.after).filter(
    (file) => !skip.has(file) && !matchesScope(file, opts.fileScope) && !opts.othersScopes.some((scope) => matchesScope(file, scope)),
  );
  return revertChanges({ ...opts, files: outside });
}

/** `files` (changed between the snapshots, relative to `cwd`) written as a patch to `patchFile`,
 *  then put back to their `before` state; see enforceScope. Returns the files it reverted. */
export async function revertChanges(opts: { cwd: string; before: Snapshot; after: Snapshot; files: string[]; patchFile: string }): Promise<ScopeCheckResult> {
  const { cwd, before, after } = opts;
  if (opts.files.length === 0) return { violations: [] };
  const prefix = await repoPrefix(cwd);
  const toRoot = (file: string) => path.posix.normalize(prefix + file);
  // A file another step committed meanwhile looks changed (dirty before, clean after) but is that
  // step's work, now in history: reverting it would put stale content back into the tree.
  const committed = await committedBetween(cwd, before.get(HEAD_KEY), after.get(HEAD_KEY));
  const violations = opts.files.filter((file) => after.has(file) || !committed.has(toRoot(file)));
  if (violations.length === 0) return { violations };
  const head = await headEntries(cwd, violations.map(toRoot));
  const entryIn = (snap: Snapshot, file: string): Entry | undefined => {
    const value = snap.get(file);
    return value === undefined ? head.get(toRoot(file)) : parseEntry(value);
  };
  const side = (snap: Snapshot) =>
    violations.flatMap((file) => {
      const entry = entryIn(snap, file);
      return entry ? [{ ...entry, path: toRoot(file) }] : [];
    });
  const patch = await binaryDiff(cwd, await writeTree(cwd, side(before)), await writeTree(cwd, side(after)));
  await mkdir(path.dirname(opts.patchFile), { recursive: true });
  await writeFile(opts.patchFile, patch);

  await restore(cwd, prefix, violations, before, (file) => head.has(toRoot(file)));
  return { violations, patchFile: opts.patchFile };
}

/** Paths (from the repository root) that commits between two HEADs changed. */
async function committedBetween(cwd: string, from: string | undefined, to: string | undefined): Promise<Set<string>> {
  if (!from || !to || from === to) return new Set();
  return new Set(splitNul((await git(cwd, ["diff", "--name-only", "-z", "--no-renames", "--no-relative", from, to])).stdout));
}

/** HEAD's blob and mode for each of `rootPaths` that it has (none in a repository without commits). */
async function headEntries(cwd: string, rootPaths: string[]): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  if ((await headCommit(cwd)) === undefined) return entries;
  const wanted = new Set(rootPaths);
  const result = await git(cwd, ["ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", ...rootPaths]);
  for (const line of splitNul(result.stdout)) {
    const tab = line.indexOf("\t");
    const [mode = "", type, sha = ""] = line.slice(0, tab).split(" ");
    const file = line.slice(tab + 1);
    if (type === "blob" && wanted.has(file)) entries.set(file, { sha, mode });
  }
  return entries;
}

/** A tree holding exactly `entries`, built in a scratch index so the real one is never touched. */
async function writeTree(cwd: string, entries: Array<Entry & { path: string }>): Promise<string> {
  const input = entries.map((e) => `${e.mode} ${e.sha}\t${e.path}\0`).join("");
  return scratchTree(cwd, {}, (env) => git(cwd, ["update-index", "-z", "--index-info"], { env, input }));
}


async function restore(
  cwd: string,
  prefix: string,
  files: string[],
  before: Snapshot,
  inHead: (file: string) => boolean,
): Promise<void> {
  const fromHead: string[] = [];
  const untrack: string[] = [];
  const remove: string[] = [];
  const blobs: Array<{ file: string } & Entry> = [];
  for (const file of files) {
    const value = before.get(file);
    if (value === undefined && inHead(file)) fromHead.push(file);
    else if (value === undefined) {
      untrack.push(file);
      remove.push(file);
    } else if (value === DELETED) remove.push(file);
    else if (value !== DIRECTORY) blobs.push({ file, ...(parseEntry(value) as Entry) });
    // A nested repository can't be put in a patch, so it is left alone rather than deleted.
  }
  // Exact index entries only: a symlink standing where a tracked folder was must not take the
  // folder's files out of the index (`git rm --cached` refuses such a path outright).
  if (untrack.length > 0) {
    const input = untrack.map((file) => `${file}\0`).join("");
    await gitWithIndexLock(cwd, ["update-index", "--force-remove", "-z", "--stdin"], { input });
  }
  // Removals first: a symlink that replaced a tracked folder must be gone before that folder's
  // files are checked out again, or they would be written through it, outside the tree.
  const root = path.resolve(cwd, ...prefix.split("/").filter(Boolean).map(() => ".."));
  for (const file of remove) {
    const full = path.join(cwd, file);
    if ((await lstat(full).catch(() => undefined))?.isDirectory()) continue;
    await rm(full, { force: true });
    await pruneEmptyParents(path.dirname(full), root);
  }
  // Clean before means index == HEAD for that file, so both are reset (undoing any `git add`).
  if (fromHead.length > 0) await gitWithIndexLock(cwd, ["checkout", "HEAD", "--", ...fromHead]);
  for (const { file, sha, mode } of blobs) {
    const full = path.join(cwd, file);
    const content = (await git(cwd, ["cat-file", "blob", sha])).stdout;
    const current = await lstat(full).catch(() => undefined);
    if (current?.isDirectory()) continue;
    if (current !== undefined && (mode === "120000" || current.isSymbolicLink())) await rm(full, { force: true });
    await mkdir(path.dirname(full), { recursive: true });
    if (mode === "120000") await symlink(content.toString("utf8"), full);
    else {
      await writeFile(full, content);
      const perms = (await lstat(full)).mode & 0o777;
      await chmod(full, mode === "100755" ? perms | 0o111 : perms & ~0o111);
    }
  }
}

/** Removes directories an attempt created only to hold a file that is now deleted. */
async function pruneEmptyParents(dir: string, root: string): Promise<void> {
  while (dir.startsWith(root + path.sep)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}
