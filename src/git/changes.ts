import { lstat, readlink } from "node:fs/promises";
import path from "node:path";
import { STATE_FOLDER } from "../store/paths.js";
import { hashBlobs } from "./object-writer.js";
import { headCommit, repoPrefix } from "./repo.js";
import { git, splitNul } from "./run-git.js";

/**
 * Working-tree state to diff against later: path (relative to the snapshot's cwd, `/`-separated)
 * → blob sha, or "deleted". Files git reports as clean are absent. Executables and symlinks carry
 * their mode after the sha (`<sha> 100755`, `<sha> 120000`) so that a mode change counts as a
 * change and a restore can bring the mode back; a nested repository or submodule is "dir".
 * HEAD at snapshot time is kept under HEAD_KEY (not a path: paths never contain NUL), because
 * "clean" means "as in HEAD" and another step may commit while this one runs.
 */
export type Snapshot = Map<string, string>;

export const HEAD_KEY = "\0HEAD";

export const DELETED = "deleted";
export const DIRECTORY = "dir";
const CLEAN = "clean";
/** Keeps `git hash-object` argv far below the OS limit. */
const HASH_BATCH = 200;

/** Paths (relative to the repository root) that `git status` reports as changed or untracked. */
async function statusPaths(cwd: string): Promise<string[]> {
  const result = await git(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]);
  const fields = splitNul(result.stdout);
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? "";
    const xy = field.slice(0, 2);
    paths.push(field.slice(3));
    // A staged rename or copy is followed by its source path, which is gone or changed too.
    if (xy.includes("R") || xy.includes("C")) {
      const from = fields[++i];
      if (from !== undefined) paths.push(from);
    }
  }
  return paths;
}

function toCwdRelative(prefix: string, rootRelative: string): string {
  const trimmed = rootRelative.endsWith("/") ? rootRelative.slice(0, -1) : rootRelative;
  return prefix === "" ? trimmed : path.posix.relative(prefix.slice(0, -1), trimmed);
}

function isStateFolder(file: string): boolean {
  return file === STATE_FOLDER || file.startsWith(`${STATE_FOLDER}/`);
}

async function hashFiles(cwd: string, prefix: string, files: string[]): Promise<string[]> {
  // A few files (a step's own): a line each to a running git, no process of their own. It reads
  // the paths from the top of the work tree, not from `cwd` (a project below the top).
  const served = files.length > 0 && files.length <= HASH_BATCH ? await hashBlobs(cwd, files.map((file) => path.posix.normalize(prefix + file))) : undefined;
  if (served !== undefined) return served;
  const shas: string[] = [];
  for (let i = 0; i < files.length; i += HASH_BATCH) {
    // --no-filters: the blob holds the exact bytes on disk, so a restore writes them back as they were.
    const result = await git(cwd, ["hash-object", "-w", "--no-filters", "--", ...files.slice(i, i + HASH_BATCH)]);
    shas.push(...result.stdout.toString("utf8").split("\n").filter(Boolean));
  }
  return shas;
}

/** `head`: what HEAD is known to be (a lane's, which ws keeps), spared a git process. */
export async function snapshot(cwd: string, head?: string): Promise<Snapshot> {
  const prefix = await repoPrefix(cwd);
  const files = [...new Set((await statusPaths(cwd)).map((p) => toCwdRelative(prefix, p)))].filter((f) => !isStateFolder(f));
  const result: Snapshot = new Map([[HEAD_KEY, head ?? (await headCommit(cwd)) ?? ""]]);
  const regular: Array<{ file: string; mode: string }> = [];
  const linkedDirs = new Map<string, boolean>();
  for (const file of files) {
    // A tracked folder replaced by a symlink: git sees its files as deleted, and hashing them
    // would read (and a restore would write) through the link, outside the tree.
    const stats = (await behindSymlink(cwd, file, linkedDirs)) ? undefined : await lstat(path.join(cwd, file)).catch(() => undefined);
    if (stats === undefined) result.set(file, DELETED);
    else if (stats.isDirectory()) result.set(file, DIRECTORY);
    else if (stats.isSymbolicLink()) {
      const target = await readlink(path.join(cwd, file));
      const sha = (await git(cwd, ["hash-object", "-w", "--stdin"], { input: target })).stdout.toString("utf8").trim();
      result.set(file, `${sha} 120000`);
    } else regular.push({ file, mode: stats.mode & 0o100 ? "100755" : "100644" });
  }
  const shas = await hashFiles(cwd, prefix, regular.map((r) => r.file));
  regular.forEach(({ file, mode }, i) => result.set(file, mode === "100644" ? `${shas[i]}` : `${shas[i]} ${mode}`));
  return result;
}

/** Whether a folder on the way from `cwd` to `file` is a symlink (answers cached per folder). */
async function behindSymlink(cwd: string, file: string, cache: Map<string, boolean>): Promise<boolean> {
  const parts = file.split("/").slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join("/");
    if (dir === "..") continue;
    let linked = cache.get(dir);
    if (linked === undefined) {
      linked = (await lstat(path.join(cwd, dir)).catch(() => undefined))?.isSymbolicLink() ?? false;
      cache.set(dir, linked);
    }
    if (linked) return true;
  }
  return false;
}

/** Files whose content differs between two snapshots (the attempt's own changes), sorted. */
export function changedBetween(before: Snapshot, after: Snapshot): string[] {
  const files = new Set([...before.keys(), ...after.keys()]);
  files.delete(HEAD_KEY);
  return [...files].filter((file) => (before.get(file) ?? CLEAN) !== (after.get(file) ?? CLEAN)).sort();
}

/** A snapshot value split into blob and git mode; undefined for "deleted"/"dir". */
export function parseEntry(value: string): { sha: string; mode: string } | undefined {
  if (value === DELETED || value === DIRECTORY) return undefined;
  const [sha = "", mode = "100644"] = value.split(" ");
  return { sha, mode };
}
