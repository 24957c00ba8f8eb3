import fs from "node:fs";
import path from "node:path";
import { git, gitText } from "./run-git.js";

/** The top of the git work tree containing `cwd`; undefined outside a repository (or without git). */
export async function gitRoot(cwd: string): Promise<string | undefined> {
  // No `.git` in cwd or above it: git would say the same (ws runs it without GIT_DIR), and asking
  // it loads the process library and forks git, a third of a short run's start-up (bench/).
  if (!hasGitMarker(cwd)) return undefined;
  const known = roots.get(cwd);
  if (known !== undefined) return known;
  try {
    const result = await git(cwd, ["rev-parse", "--show-toplevel"], { allowFailure: true });
    const root = result.stdout.toString("utf8").trim();
    if (result.code !== 0 || root === "") return undefined;
    roots.set(cwd, path.resolve(root));
    return path.resolve(root);
  } catch {
    // git not installed, or cwd gone: either way there is no repository to work with.
    return undefined;
  }
}

// A run asks it for the project and again for the repository's top on its way to the first step;
// a folder's repository top does not change while ws runs (a `.git` removed meanwhile is still
// seen above: no marker, no answer). Only answers are kept: "not a repository" is asked again.
const roots = new Map<string, string>();

function hasGitMarker(cwd: string): boolean {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, ".git"))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}

/** The commit HEAD points at; undefined in a repository with no commits yet. */
export async function headCommit(cwd: string): Promise<string | undefined> {
  const result = await git(cwd, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { allowFailure: true });
  return result.code === 0 ? result.stdout.toString("utf8").trim() : undefined;
}

/** Whether `commit` is in the history of `of` (the same commit counts). */
export async function isAncestor(cwd: string, commit: string, of: string): Promise<boolean> {
  return (await git(cwd, ["merge-base", "--is-ancestor", commit, of], { allowFailure: true })).code === 0;
}

/** `refs/heads/<name>` resolved to a sha; undefined when the branch doesn't exist. */
export async function branchCommit(cwd: string, branch: string): Promise<string | undefined> {
  const result = await git(cwd, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], { allowFailure: true });
  return result.code === 0 ? result.stdout.toString("utf8").trim() : undefined;
}

/** Where `cwd` sits inside its work tree, as git spells it ("" at the top, else "sub/dir/"). */
export function repoPrefix(cwd: string): Promise<string> {
  return askedOnce(cwd, "--show-prefix");
}

/** The top of the work tree holding `cwd`. */
export function repoTop(cwd: string): Promise<string> {
  return askedOnce(cwd, "--show-toplevel");
}

// Both are asked before and after every attempt or at every commit, and neither changes for a
// folder, so each is asked of git once per folder; a failure is not cached, so the next call asks again.
const answers = new Map<string, Promise<string>>();

/** What git would answer for a folder of a work tree ws made itself (a lane): its prefix and top. */
export function knowFolder(cwd: string, answer: { prefix: string; top: string }): void {
  answers.set(`--show-prefix\0${cwd}`, Promise.resolve(answer.prefix));
  answers.set(`--show-toplevel\0${cwd}`, Promise.resolve(answer.top));
}

function askedOnce(cwd: string, flag: "--show-prefix" | "--show-toplevel"): Promise<string> {
  const key = `${flag}\0${cwd}`;
  let answer = answers.get(key);
  if (answer === undefined) answers.set(key, (answer = gitText(cwd, ["rev-parse", flag])));
  return answer.catch((error: unknown) => {
    answers.delete(key);
    throw error;
  });
}
