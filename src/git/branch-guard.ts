import { lstat, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { git, gitText, gitWithIndexLock } from "./run-git.js";

/** The run's worktree as ws made it: where it is, how its `.git` file points at its git dir, and
 *  the branch it must stay on. */
export interface TreeIdentity {
  root: string;
  /** The worktree's own git dir (its HEAD and index). */
  gitDir: string;
  /** The exact text of `<root>/.git` ("gitdir: …"). */
  dotGit: string;
  branch: string;
}

/**
 * Brings back a worktree a step deleted (`rm -rf $PWD`) or disconnected (its `.git` file replaced
 * by a fresh repository of its own), using only file operations until the `.git` file is right
 * again: any git command run before that would work on the wrong repository. What the step put
 * in place of `.git` is moved to `keepDir`. Returns what was wrong, or nothing.
 */
export async function recoverTree(tree: TreeIdentity, tip: string, keepDir: string): Promise<string[]> {
  const dotGit = path.join(tree.root, ".git");
  const stats = await lstat(dotGit).catch(() => undefined);
  if (stats === undefined && (await lstat(tree.root).catch(() => undefined)) === undefined) {
    await mkdir(tree.root, { recursive: true });
    await writeFile(dotGit, tree.dotGit);
    await gitWithIndexLock(tree.root, ["reset", "-q", "--hard", tip]);
    return [`the worktree ${tree.root} was deleted; recreated it at ${tip.slice(0, 12)} (uncommitted work in it is lost)`];
  }
  if (stats?.isFile() && (await readFile(dotGit, "utf8").catch(() => "")) === tree.dotGit) return [];
  let kept = "";
  if (stats !== undefined) {
    await mkdir(keepDir, { recursive: true });
    kept = path.join(keepDir, "dot-git");
    await rename(dotGit, kept);
  }
  await writeFile(dotGit, tree.dotGit);
  // The index belongs to the worktree's own git dir, which the step did not reach: it still
  // matches HEAD, so the work tree's files are compared against the right commit again.
  const what = stats === undefined ? "was deleted" : stats.isDirectory() ? "was replaced by a repository of the step's own" : "was changed";
  return [`the worktree's .git file ${what}; restored it${kept ? ` (the step's version is kept in ${kept})` : ""}`];
}

/**
 * HEAD must still be the run's branch, at the commit ws made last (`tip`). A step that checked out
 * another branch, detached HEAD, reset or committed is undone: the history it made is written to
 * `patchFile` (`git diff --binary <tip> <where HEAD was>`), the branch goes back to `tip` and the
 * files the move changed are put back (`reset --keep`, which never overwrites an edit made after
 * the move; when it would, the files stay as they are and the scope check judges them).
 */
export async function restoreBranch(tree: TreeIdentity, tip: string, patchFile: string, refs: Map<string, string>): Promise<string[]> {
  const ref = `refs/heads/${tree.branch}`;
  // HEAD read as a file and refs from the guard's one for-each-ref: no git call when all is well.
  const head = (await readFile(path.join(tree.gitDir, "HEAD"), "utf8").catch(() => "")).trim();
  const symbolic = head.startsWith("ref: ") ? head.slice(5) : "";
  const branchAt = refs.get(ref);
  const headAt = symbolic ? (refs.get(symbolic) ?? "") : head;
  if (symbolic === ref && branchAt === tip) return [];

  const findings: string[] = [];
  if (symbolic !== ref) findings.push(`HEAD was moved to ${symbolic ? symbolic.replace(/^refs\/heads\//, "branch ") : `a detached ${headAt.slice(0, 12)}`}`);
  if (branchAt !== tip) findings.push(`${tree.branch} was moved from ${tip.slice(0, 12)} to ${branchAt ? branchAt.slice(0, 12) : "nothing (deleted)"}`);
  const moved = headAt !== "" && headAt !== tip;
  if (moved) {
    const diff = await git(tree.root, ["diff", "--binary", "--full-index", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", tip, headAt]);
    await mkdir(path.dirname(patchFile), { recursive: true });
    await writeFile(patchFile, diff.stdout);
  }
  // The branch first goes where the index and files are now, so that reset --keep moves them back.
  await git(tree.root, ["update-ref", ref, moved ? headAt : tip]);
  await git(tree.root, ["symbolic-ref", "HEAD", ref]);
  if (moved) {
    const keep = await gitWithIndexLock(tree.root, ["reset", "-q", "--keep", tip], { allowFailure: true });
    if (keep.code !== 0) await gitWithIndexLock(tree.root, ["reset", "-q", tip]);
  }
  const where = moved ? `; the history it made is kept in ${patchFile}` : "";
  return [`${findings.join(", ")}: put ${tree.branch} back at ${tip.slice(0, 12)}${where}`];
}

/** The worktree's identity, read once when the run starts. */
export async function readTreeIdentity(root: string, branch: string): Promise<TreeIdentity> {
  const [top = "", gitDir = ""] = (await gitText(root, ["rev-parse", "--show-toplevel", "--absolute-git-dir"])).split("\n");
  return { root: top, gitDir, dotGit: await readFile(path.join(top, ".git"), "utf8"), branch };
}
