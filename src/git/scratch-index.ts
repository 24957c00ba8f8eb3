import { constants } from "node:fs";
import { copyFile, mkdtemp, rm, stat, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { git, gitText } from "./run-git.js";

/** What a scratch index starts from before `fill` stages into it: nothing (an empty index), a
 *  tree-ish read with read-tree, or a copy of an index file (its stat cache spares re-hashing
 *  unchanged files), falling back to `tree` when that file can't be copied. */
interface ScratchSeed {
  tree?: string | undefined;
  copyOf?: string | undefined;
}

/**
 * The tree object of an index that exists only for this call: a temporary GIT_INDEX_FILE is seeded,
 * `fill` stages into it (it must pass `env` to every git command it runs), write-tree names the
 * result, and the file is removed. The repository's real index is never read or locked, so
 * whatever the user has staged stays out of the tree and undisturbed.
 */
export async function scratchTree(
  cwd: string,
  seed: ScratchSeed,
  fill: (env: { GIT_INDEX_FILE: string }) => Promise<unknown>,
  extraEnv: Record<string, string> = {},
  /** Given the filled index file before it is removed (to keep a copy of it). */
  keep?: (indexFile: string) => Promise<unknown>,
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ws-index-"));
  try {
    const env = { GIT_INDEX_FILE: path.join(dir, "index") };
    const copied = seed.copyOf !== undefined && (await copyIndex(seed.copyOf, env.GIT_INDEX_FILE));
    if (!copied && seed.tree !== undefined) await git(cwd, ["read-tree", seed.tree], { env: { ...extraEnv, ...env } });
    await fill(env);
    const tree = await gitText(cwd, ["write-tree"], { env: { ...extraEnv, ...env } });
    await keep?.(env.GIT_INDEX_FILE);
    return tree;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Copies an index file with its modification time, which git reads as "when this stat cache was
 * taken": an entry whose mtime is not older than the index's is racily clean, so git re-hashes it
 * instead of trusting a matching stat. A plain copy is newer, and a file rewritten (same size) in
 * the second the user's index was written would look unchanged in it. The copy gets the original's
 * mtime truncated to the second (exact in a double, never later than the original: at worst a few
 * more entries are re-hashed), from a stat taken before the copy, so an index rewritten meanwhile
 * makes the copy's content newer than its mtime, never the reverse.
 */
export async function copyIndex(from: string, to: string, exclusive = false): Promise<boolean> {
  let made = false;
  try {
    const { mtimeNs } = await stat(from, { bigint: true });
    // Exclusive: `to` is a lock file (`index.lock`), made only when nobody holds it.
    await copyFile(from, to, exclusive ? constants.COPYFILE_EXCL : 0);
    made = true;
    const seconds = Number(mtimeNs / 1_000_000_000n);
    await utimes(to, seconds, seconds);
    return true;
  } catch {
    if (made && exclusive) await rm(to, { force: true });
    return false;
  }
}
