import path from "node:path";
import { git, gitText } from "./run-git.js";

/** The top of the git work tree containing `cwd`; undefined outside a repository (or without git). */
export async function gitRoot(cwd: string): Promise<string | undefined> {
  try {
    const result = await git(cwd, ["rev-parse", "--show-toplevel"], { allowFailure: true });
    const root = result.stdout.toString("utf8").trim();
    return result.code === 0 && root !== "" ? path.resolve(root) : undefined;
  } catch {
    // git not installed, or cwd gone: either way there is no repository to work with.
    return undefined;
  }
}

/** The commit HEAD points at; undefined in a repository with no commits yet. */
export async function headCommit(cwd: string): Promise<string | undefined> {
  const result = await git(cwd, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { allowFailure: true });
  return result.code === 0 ? result.stdout.toString("utf8").trim() : undefined;
}

/** `refs/heads/<name>` resolved to a sha; undefined when the branch doesn't exist. */
export async function branchCommit(cwd: string, branch: string): Promise<string | undefined> {
  const result = await git(cwd, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], { allowFailure: true });
  return result.code === 0 ? result.stdout.toString("utf8").trim() : undefined;
}

/** Where `cwd` sits inside its work tree, as git spells it ("" at the top, else "sub/dir/"). */
export async function repoPrefix(cwd: string): Promise<string> {
  // Asked before and after every attempt; a folder's place in its work tree does not change.
  let prefix = prefixes.get(cwd);
  if (prefix === undefined) prefixes.set(cwd, (prefix = gitText(cwd, ["rev-parse", "--show-prefix"])));
  return prefix.catch((error: unknown) => {
    prefixes.delete(cwd);
    throw error;
  });
}

const prefixes = new Map<string, Promise<string>>();

/** The top of the work tree holding `cwd` (cached like the prefix: asked at every commit). */
export async function repoTop(cwd: string): Promise<string> {
  let top = tops.get(cwd);
  if (top === undefined) tops.set(cwd, (top = gitText(cwd, ["rev-parse", "--show-toplevel"])));
  return top.catch((error: unknown) => {
    tops.delete(cwd);
    throw error;
  });
}

const tops = new Map<string, Promise<string>>();
