import { copyFile, mkdtemp, rm } from "node:fs/promises";
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
export async function scratchTree(cwd: string, seed: ScratchSeed, fill: (env: { GIT_INDEX_FILE: string }) => Promise<unknown>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ws-index-"));
  try {
    const env = { GIT_INDEX_FILE: path.join(dir, "index") };
    const copied = seed.copyOf !== undefined && (await copyFile(seed.copyOf, env.GIT_INDEX_FILE).then(() => true, () => false));
    if (!copied && seed.tree !== undefined) await git(cwd, ["read-tree", seed.tree], { env });
    await fill(env);
    return await gitText(cwd, ["write-tree"], { env });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
