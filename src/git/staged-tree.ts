import fs from "node:fs";
import path from "node:path";
import { checkInBlobs } from "./object-writer.js";
import { editTree, type PathChange } from "./trees.js";

/** A lane whose step's files are committed: where its tree and git dir are, and where its objects go. */
export interface StagingLane {
  /** The lane's top folder (where git reads the paths it is given). */
  top: string;
  /** Where the step ran, relative to `top` ("" or "sub/dir/"): the files are relative to it. */
  prefix: string;
  gitDir: string;
  /** The user's repository, whose objects the lane borrows and where its trees are written. */
  repo: string;
  /** The environment of the lane's git that writes blobs (GIT_OBJECT_DIRECTORY: the user's store). */
  env: Record<string, string>;
}

/**
 * The tree that `git update-index --add --remove` of `files` over an index holding `parentTree`,
 * then `git write-tree`, would make in a lane, made without either process (issue 32: two git
 * processes between a step's last test and its end). Each file's blob is what update-index would
 * store (a line to a long-lived `hash-object --stdin-paths` run in the lane: the same code, the
 * path's attributes, core.autocrlf), its mode what update-index takes from the file (the lane's
 * config trusts the executable bit), a file that is gone is removed; the trees on the way are
 * edited in process (trees.ts).
 *
 * Undefined for anything else, which the caller leaves to update-index as before: a symlink or a
 * special file, a path through a symlinked folder or past the top, a `.gitattributes` among the
 * files (update-index reads attributes from the index too), a name git refuses, a lane config
 * that does not trust the file system (core.fileMode false, core.symlinks false,
 * core.precomposeUnicode), or what the tree edit does not decide (trees.ts).
 */
export async function stagedTree(lane: StagingLane, parentTree: string, files: readonly string[]): Promise<string | undefined> {
  // File system calls here are synchronous: a few small ones, on the way to the step's end, where
  // each trip through the event loop waits for a turn on a loaded machine.
  if (!trustsFileSystem(lane.gitDir)) return undefined;
  const paths: string[] = [];
  for (const file of files) {
    const top = path.posix.normalize(lane.prefix + file);
    if (!validPath(top)) return undefined;
    paths.push(top);
  }
  const folders = new Map<string, "folder" | "missing" | "other">();
  const modes: Array<string | null> = [];
  for (const file of paths) {
    if (!throughFolders(lane.top, file, folders)) return undefined;
    const stats = lstatOf(path.join(lane.top, file));
    if (stats === undefined || (stats !== null && !stats.isFile())) return undefined;
    modes.push(stats === null ? null : stats.mode & 0o100 ? "100755" : "100644");
  }
  const present = paths.filter((_, k) => modes[k] !== null);
  const blobs = present.length === 0 ? [] : await checkInBlobs(lane.top, present, lane.env);
  if (blobs === undefined) return undefined;
  const changes = new Map<string, PathChange>();
  let next = 0;
  paths.forEach((file, k) => {
    const mode = modes[k];
    changes.set(Buffer.from(file, "utf8").toString("latin1"), mode === null || mode === undefined ? null : { mode, id: blobs[next++] ?? "" });
  });
  return editTree(lane.repo, parentTree, changes);
}

/**
 * A path git takes as it is, relative to the top: no empty, `.` or `..` part, no part git refuses
 * or treats specially on some file system (`.git` in any case or form, NTFS short names and
 * separators), and not a `.gitattributes`, whose change git reads from its index too.
 */
function validPath(file: string): boolean {
  const parts = file.split("/");
  return parts.every((part) => part !== "" && part !== "." && part !== ".." && !/[\\:]/.test(part) && !isDotGit(part)) && parts.at(-1) !== ".gitattributes";
}

/** `.git` as git's verify_path sees it on some file system: any case, trailing dots or spaces,
 *  invisible characters (HFS+), the NTFS short name. */
function isDotGit(part: string): boolean {
  const bare = part.replace(/[^\x21-\x7e]/g, "").toLowerCase();
  return /^\.git\.*$/.test(bare) || /^git~\d+$/.test(bare);
}

/** A path's lstat; null when nothing is there, undefined when it cannot be told. */
function lstatOf(file: string): fs.Stats | null | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? null : undefined;
  }
}

/** Every folder on the way to `file` a real folder (or, from some point on, missing: a deleted file's). */
function throughFolders(top: string, file: string, cache: Map<string, "folder" | "missing" | "other">): boolean {
  const parts = file.split("/").slice(0, -1);
  let missing = false;
  for (let k = 1; k <= parts.length; k++) {
    const dir = parts.slice(0, k).join("/");
    let kind = cache.get(dir);
    if (kind === undefined) {
      const stats = lstatOf(path.join(top, dir));
      kind = stats === null ? "missing" : stats?.isDirectory() ? "folder" : "other";
      cache.set(dir, kind);
    }
    if (kind === "other" || (missing && kind === "folder")) return false;
    missing = kind === "missing";
  }
  return true;
}

/** Whether the lane's config (ws's own, lane-git-dir.ts) lets git take modes and names from the file system as they are. */
function trustsFileSystem(gitDir: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(path.join(gitDir, "config"), "utf8");
  } catch {
    return false;
  }
  const core = new Map<string, string>();
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) section = line.toLowerCase();
    const setting = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(\S*)$/.exec(line);
    if (section === "[core]" && setting) core.set(setting[1]!.toLowerCase(), setting[2]!.toLowerCase());
  }
  const yes = (value: string | undefined) => value !== undefined && ["true", "yes", "on", "1"].includes(value);
  const no = (value: string | undefined) => value !== undefined && ["false", "no", "off", "0"].includes(value);
  return yes(core.get("filemode")) && !no(core.get("symlinks")) && !yes(core.get("precomposeunicode"));
}
