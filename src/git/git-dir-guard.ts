import fs from "node:fs";
import { chmod, cp, lstat, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { git } from "./run-git.js";

/**
 * The parts of a git dir that make git run code or change what it sees, as bytes on disk: hooks/
 * (run by the user's next commit), config (fsmonitor, filters, aliases, includes), info/
 * (exclude, attributes, sparse-checkout) and, when watched, HEAD. Read and restored with plain
 * file operations, never through git: git reads this very config before it does anything.
 */
type Entry = { kind: "dir" } | { kind: "file"; bytes: Buffer; mode: number } | { kind: "link"; target: string } | { kind: "other" };

/** Absolute path → what was there. */
export type GitDirFiles = Map<string, Entry>;

/** What to watch: whole folders and single files, as absolute paths. */
export interface GitDirWatch {
  folders: string[];
  files: string[];
}

/** A folder holding thousands of entries is not a hooks folder: stop rather than read a huge tree. */
const MAX_ENTRIES = 5000;

async function entryAt(file: string): Promise<Entry | undefined> {
  return entryNow(file);
}

/**
 * What is at `file`, read synchronously: a git dir's watched part is a few dozen small files
 * (hooks, config, info/), read before and after every step, and one await a file made that a
 * trip through the event loop each, which waits for a turn when the machine is loaded (issue 32).
 */
function entryNow(file: string): Entry | undefined {
  try {
    const stats = fs.lstatSync(file);
    if (stats.isDirectory()) return { kind: "dir" };
    if (stats.isSymbolicLink()) return { kind: "link", target: fs.readlinkSync(file) };
    if (stats.isFile()) return { kind: "file", bytes: fs.readFileSync(file), mode: stats.mode & 0o7777 };
    return { kind: "other" };
  } catch {
    return undefined;
  }
}

function walk(root: string, into: GitDirFiles): void {
  const entry = entryNow(root);
  if (entry === undefined) return;
  into.set(root, entry);
  if (entry.kind !== "dir" || into.size > MAX_ENTRIES) return;
  let names: string[] = [];
  try {
    names = fs.readdirSync(root);
  } catch {
    // gone meanwhile, or unreadable: nothing below it to compare
  }
  for (const name of names) walk(path.join(root, name), into);
}

export async function readGitDir(watch: GitDirWatch): Promise<GitDirFiles> {
  const files: GitDirFiles = new Map();
  for (const folder of watch.folders) walk(folder, files);
  for (const file of watch.files) {
    const entry = entryNow(file);
    if (entry !== undefined) files.set(file, entry);
  }
  return files;
}

function same(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === "file" && b.kind === "file") return a.mode === b.mode && a.bytes.equals(b.bytes);
  if (a.kind === "link" && b.kind === "link") return a.target === b.target;
  return true;
}

/** Paths whose entry differs between two readings, shallowest first. */
export function gitDirChanges(before: GitDirFiles, after: GitDirFiles): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => !same(before.get(p), after.get(p))).sort();
}

/**
 * Puts every changed path back as it was in `before`, after copying what the step left there
 * into `keepDir` (under the path relative to `base`). Extra paths are removed deepest first,
 * then the old ones are written shallowest first, so a hooks/ folder swapped for a symlink
 * becomes a folder again.
 */
export async function restoreGitDir(changed: string[], before: GitDirFiles, base: string, keepDir: string): Promise<void> {
  for (const file of changed) {
    const kept = path.join(keepDir, path.relative(base, file));
    const now = await lstat(file).catch(() => undefined);
    if (now === undefined || now.isDirectory()) continue;
    await mkdir(path.dirname(kept), { recursive: true });
    await cp(file, kept, { verbatimSymlinks: true, force: true }).catch(() => undefined);
  }
  for (const file of [...changed].reverse()) {
    const old = before.get(file);
    const now = await entryAt(file);
    if (now !== undefined && !(old?.kind === "dir" && now.kind === "dir")) await rm(file, { recursive: true, force: true });
  }
  for (const file of changed) {
    const old = before.get(file);
    if (old === undefined || old.kind === "other") continue;
    await mkdir(path.dirname(file), { recursive: true });
    if (old.kind === "dir") await mkdir(file, { recursive: true });
    else if (old.kind === "link") await symlink(old.target, file);
    else {
      await writeFile(file, old.bytes);
      await chmod(file, old.mode);
    }
  }
}

/** refname → sha of every ref that is not symbolic (those follow their target). */
export type Refs = Map<string, string>;

export async function readRefs(cwd: string, ignore: (ref: string) => boolean = () => false): Promise<Refs> {
  const out = (await git(cwd, ["for-each-ref", "--format=%(refname) %(objectname) %(symref)"])).stdout.toString("utf8");
  const refs: Refs = new Map();
  for (const line of out.split("\n")) {
    const [ref = "", sha = "", symref = ""] = line.split(" ");
    if (ref !== "" && symref === "" && !ignore(ref)) refs.set(ref, sha);
  }
  return refs;
}

/** The refs of `refs` that `ignore` does not exclude. */
export function refsExcept(refs: Refs, ignore: (ref: string) => boolean): Refs {
  return new Map([...refs].filter(([ref]) => !ignore(ref)));
}

/** Puts refs back (created ones deleted, moved or deleted ones reset); returns one line per ref,
 *  `<ref> <old sha|-> -> <new sha|->`, so the step's commits can still be found. */
export async function restoreRefs(cwd: string, before: Refs, after: Refs): Promise<string[]> {
  const lines: string[] = [];
  for (const ref of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(ref);
    const now = after.get(ref);
    if (old === now) continue;
    lines.push(`${ref} ${old ?? "-"} -> ${now ?? "-"}`);
    if (old === undefined) await git(cwd, ["update-ref", "-d", ref]);
    else await git(cwd, ["update-ref", ref, old]);
  }
  return lines.sort();
}
