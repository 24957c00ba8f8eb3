import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import { trailerLine } from "./branch-name.js";
import { identityEnv } from "./commit.js";
import { headCommit } from "./repo.js";
import { git, gitText, splitNul } from "./run-git.js";
import { scratchTree } from "./scratch-index.js";

/** An empty repository: the only git problem that lets a run fall back to running in place. */
export class NoCommitsError extends UserError {}

/** What a run starts from. */
export interface RunBase {
  commit: string;
  /** "working tree" (the default) or the ref given with --base. */
  source: string;
  /** Root-relative paths where the working tree differs from HEAD (empty with --base). */
  uncommitted: string[];
}

/** What the run already knows of the checkout when it takes its base (outside-watch.ts looked). */
export interface KnownCheckout {
  /** `git status` listed nothing (ws's own output file aside): the working tree is HEAD's tree. */
  clean?: boolean | undefined;
  /** HEAD's commit, asked beside that look (undefined: no commits yet). */
  head?: Promise<string | undefined> | undefined;
}

/**
 * The commit a run starts from. Without a ref: the working tree as the user sees it (tracked
 * changes, and untracked files git does not ignore) as a commit whose parent is HEAD, made the way
 * `git stash create` does it but through a scratch index, so the user's index, checkout and stash
 * are left exactly as they were. When nothing differs from HEAD, HEAD itself. With a ref: that commit.
 */
export async function resolveBase(gitRoot: string, wsId: string, ref?: string, known: KnownCheckout = {}): Promise<RunBase> {
  if (ref !== undefined) {
    const result = await git(gitRoot, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { allowFailure: true });
    const commit = result.stdout.toString("utf8").trim();
    if (result.code !== 0 || commit === "") {
      throw new UserError(`--base ${ref}: no such commit in ${gitRoot}`, { fix: "name a branch, tag or commit (e.g. --base HEAD), or leave --base out to run on the working tree as it is" });
    }
    return { commit, source: ref, uncommitted: [] };
  }
  const head = await (known.head ?? headCommit(gitRoot));
  if (head === undefined) {
    throw new NoCommitsError(`the git repository at ${gitRoot} has no commits yet, so there is nothing to start the worktree from`, {
      fix: 'make a first commit, or set "isolation": "none" under "execution"',
    });
  }
  // Nothing git would stage: the snapshot (a copy of the index, `add --all`, write-tree, a diff)
  // would be HEAD's tree, four processes on the way to the first step for nothing.
  if (known.clean === true) return { commit: head, source: "working tree", uncommitted: [] };
  const tree = await workingTreeTree(gitRoot);
  const uncommitted = splitNul((await git(gitRoot, ["diff-tree", "-r", "-z", "--no-renames", "--name-only", head, tree])).stdout);
  if (uncommitted.length === 0) return { commit: head, source: "working tree", uncommitted };
  // No path in the message: a merge puts this commit into the project's history, for everyone.
  const message = `ws: uncommitted work the run started from (${uncommitted.length} uncommitted file${uncommitted.length === 1 ? "" : "s"})\n\n${trailerLine(wsId)}\n`;
  const commit = await gitText(gitRoot, ["commit-tree", tree, "--no-gpg-sign", "-p", head, "-F", "-"], { input: message, env: await identityEnv(gitRoot) });
  return { commit, source: "working tree", uncommitted };
}

/** Whether the working tree (as a run would take it for its base) differs from `base`'s tree: a
 *  fix made since, which `--resume` alone would not run on. False when it cannot tell. */
export async function workingTreeDiffers(gitRoot: string, base: string): Promise<boolean> {
  try {
    return (await workingTreeTree(gitRoot)) !== (await gitText(gitRoot, ["rev-parse", "--verify", "--quiet", `${base}^{tree}`]));
  } catch {
    return false;
  }
}

/** The tree object of the working tree, built in a copy of the user's index (its stat cache
 *  spares re-hashing unchanged files); .gitignore'd files, ws's own .worktrees/, and the file
 *  ws's output is redirected into (`ws run > out.txt`, half-written) stay out. */
async function workingTreeTree(gitRoot: string): Promise<string> {
  const real = path.resolve(gitRoot, await gitText(gitRoot, ["rev-parse", "--git-path", "index"]));
  const own = ownOutputFiles(gitRoot);
  return scratchTree(gitRoot, { copyOf: real, tree: "HEAD" }, async (env) => {
    await git(gitRoot, ["add", "--all", "--ignore-errors", "--", "."], { env, allowFailure: true });
    if (own.length > 0) await git(gitRoot, ["update-index", "--force-remove", "-z", "--stdin"], { env, input: own.map((f) => `${f}\0`).join("") });
  });
}

/** Files inside `gitRoot` that ws's stdout or stderr is redirected into, relative to it. Found
 *  through /proc (Linux); elsewhere none, and such a file is part of the base like any other. */
function ownOutputFiles(gitRoot: string): string[] {
  const files: string[] = [];
  for (const fd of [1, 2]) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      const rel = path.relative(gitRoot, target);
      if (path.isAbsolute(target) && fs.statSync(target).isFile() && rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel)) files.push(rel.split(path.sep).join("/"));
    } catch {
      // no /proc, or not a file: nothing to leave out
    }
  }
  return [...new Set(files)];
}
