import { readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { SERVERS } from "./run-git.js";

type IndexLockState = "none" | "removed" | "held";

/**
 * `index.lock` of the git dir `cwd` works in, if there is one. Resolved by hand (not through git)
 * because this is asked when git has just refused to work.
 */
async function lockPath(cwd: string): Promise<{ lock: string; top: string } | undefined> {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, ".git");
    const info = await stat(dotGit).catch(() => undefined);
    if (info?.isDirectory()) return { lock: path.join(dotGit, "index.lock"), top: dir };
    if (info?.isFile()) {
      // A worktree's `.git` file: "gitdir: <its own git dir>", where its index lives.
      const match = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, "utf8").catch(() => ""));
      if (match?.[1]) return { lock: path.join(path.resolve(dir, match[1]), "index.lock"), top: dir };
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Whether a live process may still be using the lock: one that has it open (git keeps the lock's
 * descriptor until it renames it into place), or a git process working in the tree (git closes
 * the lock while a hook of `git commit` runs). Read from /proc: Linux only; elsewhere the answer
 * is "maybe", and the caller names the file instead of deleting it.
 */
async function mayBeHeld(lock: string, top: string): Promise<boolean> {
  const pids = await readdir("/proc").catch(() => undefined);
  if (pids === undefined || !(await stat("/proc/self/fd").catch(() => undefined))) return true;
  // ws's own long-lived gits (hash-object servers) work in the tree but never lock its index.
  for (const pid of pids.filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid && !SERVERS.has(Number(p)))) {
    const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
    if (comm === "git") {
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => "");
      if (cwd === top || cwd.startsWith(top + path.sep)) return true;
    }
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === lock) return true;
  }
  return false;
}

/** Removes a stale index.lock (left by a kill -9) in the git dir of `cwd` when no process may
 *  hold it. "held" leaves it alone: the caller waits, or stops with `indexLockError`. */
export async function clearStaleIndexLock(cwd: string): Promise<IndexLockState> {
  const where = await lockPath(cwd);
  if (where === undefined || !(await stat(where.lock).catch(() => undefined))) return "none";
  if (await mayBeHeld(where.lock, where.top)) return "held";
  await rm(where.lock, { force: true });
  return "removed";
}

/** The message for a lock ws could not remove: which file, and what to do. */
export async function indexLockError(cwd: string): Promise<UserError> {
  const lock = (await lockPath(cwd))?.lock ?? path.join(cwd, ".git", "index.lock");
  return new UserError(`git's index is locked by ${lock}, and a process may still hold it`, {
    fix: `make sure no git command is running in ${cwd}, delete ${lock}, then run again with --resume`,
  });
}
