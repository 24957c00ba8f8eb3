import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { setImmediate as yieldNow } from "node:timers/promises";
import { git, splitNul } from "./run-git.js";

/**
 * Gives a new lane the ignored files an already set-up lane holds (node_modules, .venv, build
 * caches), so `worktree.setup` need not run again in it (issue 32). Copy-on-write where the file
 * system clones files (`cp --reflink=always` on Linux, `cp -c`, clonefile, on macOS), else a plain
 * copy. Only what git ignores in the source is copied, never the lane's `.git` file nor a path
 * git tracks in the new lane; the policy (when to copy rather than set up) is worktree-setup.ts's.
 */

/** How a lane's ignored files were brought in: cloned, copied byte by byte. */
export type CloneKind = "reflink" | "copy";

/** The files whose change means a setup of their own (plus the command itself). */
const LOCKFILES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "bun.lock",
  "bun.lockb",
  "uv.lock",
  "poetry.lock",
  "Pipfile.lock",
  "Gemfile.lock",
  "Cargo.lock",
  "go.sum",
];
const REQUIREMENTS = /^requirements.*\.txt$/;

/**
 * A hash of what a setup depends on: the command and the lockfiles at the top of `dirs` (the
 * project folder, and the repository's top when the project is a sub-folder). A lockfile that
 * changes makes a lane's earlier setup stale, and a lane set up for other lockfiles is no source.
 */
export function setupInputs(dirs: readonly string[], command: string): string {
  const hash = createHash("sha256").update(`command\0${command}\0`);
  for (const [k, dir] of [...new Set(dirs)].entries()) {
    const names = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !e.isDirectory() && (LOCKFILES.includes(e.name) || REQUIREMENTS.test(e.name)));
    for (const name of names.map((e) => e.name).sort()) {
      const bytes = fs.readFileSync(path.join(dir, name), { flag: "r" });
      hash.update(`${k}\0${name}\0${bytes.length}\0`).update(bytes);
    }
  }
  return hash.digest("hex");
}

const probes = new Map<string, Promise<boolean>>();

/** The probe cloneSupport asks; a test replaces it to play a file system with (or without) clones. */
export const cloneProbe = { probe: probeClone };

/**
 * Whether files in `dir` can be cloned (reflink, clonefile): tried once per folder and process
 * on a small file with COPYFILE_FICLONE_FORCE (libuv's FICLONE ioctl, clonefile on macOS), which
 * fails where the file system has no clone (ext4, tmpfs) instead of copying quietly.
 */
export function cloneSupport(dir: string): Promise<boolean> {
  let known = probes.get(dir);
  if (known === undefined) {
    known = cloneProbe.probe(dir);
    probes.set(dir, known);
  }
  return known;
}

async function probeClone(dir: string): Promise<boolean> {
  const from = path.join(dir, `.ws-clone-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const to = `${from}-clone`;
  try {
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.writeFile(from, "probe\n");
    await fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await fs.promises.rm(from, { force: true });
    await fs.promises.rm(to, { force: true });
  }
}

/**
 * What git ignores in `workdir`, as the fewest paths (`--directory`: a folder ignored as a whole is
 * one entry), relative to it. Left out: `.git` (the lane's own pointer to its git dir), ws's state
 * folder, `skip` (what worktree.copy/link bring in afresh) and symlinks (links to a shared folder,
 * made by the link setting, are made again, not copied).
 */
export async function ignoredEntries(workdir: string, skip: readonly string[]): Promise<string[]> {
  const listed = splitNul((await git(workdir, ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory", "--no-empty-directory"])).stdout);
  const entries: string[] = [];
  for (const entry of listed.map((e) => e.replace(/\/$/, ""))) {
    const parts = entry.split("/");
    if (parts.includes(".git") || parts[0] === ".worktrees") continue;
    if (skip.some((s) => entry === s || entry.startsWith(`${s}/`) || s.startsWith(`${entry}/`))) continue;
    if (fs.lstatSync(path.join(workdir, entry), { throwIfNoEntry: false })?.isSymbolicLink() ?? true) continue;
    entries.push(entry);
  }
  return entries;
}

export interface SeedResult {
  /** The entries now in `to`, as they were in `from`. */
  copied: string[];
  /** Entries left out: git tracks something there in `to`, or their folder is not in `to`. */
  skipped: string[];
  how: CloneKind;
  /** Files that differed after the copy (the source changed meanwhile) and could not be made equal. */
  unequal: string[];
  files: number;
  ms: number;
}

/**
 * Copies `paths` (relative, from ignoredEntries) from the workdir `from` into the workdir `to`,
 * each replacing what `to` had there. With `check` (the source may be in use by a running step),
 * what changed in the source since the copy began is copied again, up to three times; what still differs is returned in `unequal`, for the caller to set
 * the lane up instead. `to` gets no record here: the caller writes it last, so a copy cut short
 * (Ctrl-C, kill -9) leaves a lane that does not look set up.
 */
export async function seedLane(opts: { from: string; to: string; paths: readonly string[]; clone: boolean; check: boolean; signal?: AbortSignal | undefined }): Promise<SeedResult> {
  const started = performance.now();
  const { from, to } = opts;
  const tracked = await trackedIn(to, opts.paths);
  const skipped = opts.paths.filter((p) => tracked.has(p) || !fs.existsSync(path.dirname(path.join(to, p))));
  const copied = opts.paths.filter((p) => !skipped.includes(p));
  for (const entry of copied) await fs.promises.rm(path.join(to, entry), { recursive: true, force: true });
  const copyStarted = Date.now() - SLACK_MS;
  let how: CloneKind = opts.clone ? "reflink" : "copy";
  if (how === "reflink" && !(await copyEntries(from, to, copied, true, opts.signal))) {
    // A clone refused for one of these folders (another file system below it): copied instead.
    how = "copy";
    for (const entry of copied) await fs.promises.rm(path.join(to, entry), { recursive: true, force: true });
  }
  if (how === "copy" && !(await copyEntries(from, to, copied, false, opts.signal))) throw new Error(`cp could not copy ${copied.join(", ")} from ${from} to ${to}`);
  let files = 0;
  let unequal: string[] = [];
  if (opts.check) {
    let since = copyStarted;
    for (let round = 0; round < 4; round++) {
      // The walk vouches for each path as it finds it: what changes from its start on is the next round's.
      const walkStarted = Date.now() - SLACK_MS;
      const look = await changedSince(from, to, copied, since);
      files = look.seen;
      unequal = look.changed;
      if (unequal.length === 0 || round === 3) break;
      since = walkStarted;
      await repair(from, to, unequal, how === "reflink", opts.signal);
    }
  }
  return { copied, skipped, how, unequal, files, ms: performance.now() - started };
}

/** The entries of `paths` under which git tracks a file in `workdir` (a lane at another base). */
async function trackedIn(workdir: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const files = splitNul((await git(workdir, ["ls-files", "-z", "--", ...paths])).stdout);
  return new Set(paths.filter((p) => files.some((f) => f === p || f.startsWith(`${p}/`))));
}

/**
 * One `cp` per folder the entries sit in (`cp -R -P -p`: links kept as links, modes and times
 * kept, which build caches compare), cloning with `--reflink=always` (GNU) or `-c`
 * (macOS). False when cp fails; killed with the run's signal.
 */
async function copyEntries(from: string, to: string, entries: readonly string[], clone: boolean, signal: AbortSignal | undefined): Promise<boolean> {
  const byFolder = new Map<string, string[]>();
  for (const entry of entries) byFolder.set(path.dirname(entry), [...(byFolder.get(path.dirname(entry)) ?? []), entry]);
  const flags = ["-R", "-P", "-p", ...(clone ? [process.platform === "darwin" ? "-c" : "--reflink=always"] : [])];
  for (const [folder, group] of byFolder) {
    const args = [...flags, "--", ...group.map((e) => path.join(from, e)), path.join(to, folder) + path.sep];
    const ok = await new Promise<boolean>((resolve) => execFile("cp", args, { signal }, (error) => resolve(error === null)));
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("cancelled");
    if (!ok) return false;
  }
  return true;
}

/** The kernel stamps ctime from a coarse clock (a tick, a few ms, behind Date.now()): a change
 *  made just after a copy began may carry a ctime just before it. */
const SLACK_MS = 50;

/**
 * What below `entries` of `from` changed since `since` and is not as in `to`. A ctime (which no
 * tool can set back: written, replaced, renamed, chmod'ed; a folder's when an entry came or went)
 * at or after `since` picks the candidates in one walk of the source, and so does being below such
 * a folder (one renamed into place keeps its files' old ctimes); each is compared with its copy
 * (type, size, mtime kept by `cp -p`, bytes, link target, a folder's names): what changed just
 * before the copy began was copied as it is now. Yields every 2000 entries (a node_modules is ~10⁴).
 */
async function changedSince(from: string, to: string, entries: readonly string[], since: number): Promise<{ changed: string[]; seen: number }> {
  const changed: string[] = [];
  const stack = entries.map((rel) => ({ rel, below: false }));
  let seen = 0;
  while (stack.length > 0) {
    const { rel, below } = stack.pop()!;
    if (++seen % 2000 === 0) await yieldNow();
    const stat = fs.lstatSync(path.join(from, rel), { throwIfNoEntry: false, bigint: true });
    const candidate = below || stat === undefined || Number(stat.ctimeNs / 1_000_000n) >= since;
    const differs = candidate && !sameAs(from, to, rel, stat);
    if (differs) changed.push(rel);
    if (!stat?.isDirectory()) continue;
    // A folder that differs is mended by its names (repair): what it shares with its copy is still looked at.
    const copy = fs.lstatSync(path.join(to, rel), { throwIfNoEntry: false });
    if (differs && !copy?.isDirectory()) continue; // copied whole
    for (const name of fs.readdirSync(path.join(from, rel))) {
      if (!differs || fs.lstatSync(path.join(to, rel, name), { throwIfNoEntry: false }) !== undefined) stack.push({ rel: `${rel}/${name}`, below: candidate });
    }
  }
  return { changed: changed.sort(), seen };
}

function sameAs(from: string, to: string, rel: string, source: fs.BigIntStats | undefined): boolean {
  const copy = fs.lstatSync(path.join(to, rel), { throwIfNoEntry: false, bigint: true });
  if (source === undefined || copy === undefined) return source === copy;
  if (source.isDirectory()) return copy.isDirectory() && fs.readdirSync(path.join(from, rel)).sort().join("\0") === fs.readdirSync(path.join(to, rel)).sort().join("\0");
  if (source.isSymbolicLink()) return copy.isSymbolicLink() && fs.readlinkSync(path.join(from, rel)) === fs.readlinkSync(path.join(to, rel));
  if (!copy.isFile() || source.size !== copy.size || source.mtimeNs / 1000n !== copy.mtimeNs / 1000n) return false;
  // Same size and time can still be other bytes (a file moved in with the old one's time kept).
  try {
    return fs.readFileSync(path.join(from, rel)).equals(fs.readFileSync(path.join(to, rel)));
  } catch {
    return false;
  }
}

/** Makes `to` match `from` again at the `changed` paths: a changed file copied anew, a changed
 *  folder's entries added or removed (its unchanged entries are left as copied). */
async function repair(from: string, to: string, changed: readonly string[], clone: boolean, signal: AbortSignal | undefined): Promise<void> {
  for (const rel of changed) {
    const source = fs.lstatSync(path.join(from, rel), { throwIfNoEntry: false });
    const target = path.join(to, rel);
    if (!fs.existsSync(path.dirname(target))) continue; // its folder is copied whole below
    if (source?.isDirectory() && fs.lstatSync(target, { throwIfNoEntry: false })?.isDirectory()) {
      const [was, now] = [fs.readdirSync(path.join(from, rel)), fs.readdirSync(target)];
      for (const gone of now.filter((name) => !was.includes(name))) await fs.promises.rm(path.join(target, gone), { recursive: true, force: true });
      const added = was.filter((name) => !now.includes(name)).map((name) => `${rel}/${name}`);
      if (!(await copyEntries(from, to, added, clone, signal))) throw new Error(`cp could not copy ${added.join(", ")} from ${from}`);
      continue;
    }
    await fs.promises.rm(target, { recursive: true, force: true });
    if (source !== undefined && !(await copyEntries(from, to, [rel], clone, signal))) throw new Error(`cp could not copy ${rel} from ${from}`);
  }
}

/**
 * A Python virtual environment names its own folder in its scripts' `#!` lines, `activate*`,
 * `pyvenv.cfg` and an editable install's `.pth`/finder files: copied as they are, a step in the
 * new lane would run the source lane's interpreter and import the source lane's code. Those
 * files (the venv's `bin/`, `Scripts/` and the top of each site-packages) get the new lane's path.
 */
export function relocateVenvs(to: string, entries: readonly string[], fromRoot: string, toRoot: string): number {
  let fixed = 0;
  for (const entry of entries) {
    const venv = path.join(to, entry);
    if (!fs.existsSync(path.join(venv, "pyvenv.cfg"))) continue;
    const files = [path.join(venv, "pyvenv.cfg"), ...listFiles(path.join(venv, "bin")), ...listFiles(path.join(venv, "Scripts"))];
    for (const lib of ["lib", "lib64", "Lib"].map((l) => path.join(venv, l))) {
      for (const python of fs.existsSync(lib) && !fs.lstatSync(lib).isSymbolicLink() ? fs.readdirSync(lib) : []) {
        const site = path.join(lib, python, "site-packages");
        files.push(...listFiles(site).filter((f) => /\.pth$|^__editable__/.test(path.basename(f))));
      }
    }
    for (const file of files) if (replaceIn(file, fromRoot, toRoot)) fixed++;
  }
  return fixed;
}

function listFiles(dir: string): string[] {
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : [];
  return entries.filter((e) => e.isFile()).map((e) => path.join(dir, e.name));
}

/** Replaces the path `from` (a whole path component: `lane-1` is not the start of `lane-10`) by
 *  `to` in a small text file; binaries and big files are left alone. */
function replaceIn(file: string, from: string, to: string): boolean {
  const stat = fs.statSync(file);
  if (stat.size > 1024 * 1024) return false;
  const bytes = fs.readFileSync(file);
  if (bytes.includes(0) || !bytes.includes(from)) return false;
  const pattern = new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=[/'"\\s:;]|$)`, "gm");
  const text = bytes.toString("utf8");
  const changed = text.replace(pattern, () => to);
  if (changed === text) return false;
  fs.writeFileSync(file, changed);
  fs.chmodSync(file, stat.mode);
  return true;
}
