import { lstat, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { binaryDiff, git, gitText, gitWithIndexLock } from "./run-git.js";

/** A step's worktree as ws made it: where it is and how its `.git` file points at its git dir. */
export interface TreeIdentity {
  root: string;
  /** The worktree's own git dir (its HEAD and index). */
  gitDir: string;
  /** The exact text of `<root>/.git` ("gitdir: …"). */
  dotGit: string;
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
 * HEAD of a step's worktree must still be detached at `tip` (the step's base, or the commit ws made
 * for it). A step that committed, reset, checked out a branch or detached elsewhere is undone: the
 * history it made is written to `patchFile` (`git diff --binary <tip> <where HEAD was>`), HEAD goes
 * back to `tip` and the files the move changed are put back (`reset --keep`, which never
 * overwrites an edit made after the move; when it would, the files stay and the scope check judges them).
 */
export async function restoreHead(tree: TreeIdentity, tip: string, patchFile: string): Promise<string[]> {
  const head = (await readFile(path.join(tree.gitDir, "HEAD"), "utf8").catch(() => "")).trim();
  if (head === tip) return [];
  const symbolic = head.startsWith("ref: ") ? head.slice(5) : "";
  const headAt = symbolic ? (await git(tree.root, ["rev-parse", "--verify", "--quiet", `${symbolic}^{commit}`], { allowFailure: true })).stdout.toString("utf8").trim() : head;
  const moved = headAt !== "" && headAt !== tip;
  if (moved) {
    await mkdir(path.dirname(patchFile), { recursive: true });
    await writeFile(patchFile, await binaryDiff(tree.root, tip, headAt));
  }
  // HEAD first goes where the index and files are now, so that reset --keep moves them back.
  await git(tree.root, ["update-ref", "--no-deref", "HEAD", moved ? headAt : tip]);
  if (moved) {
    const keep = await gitWithIndexLock(tree.root, ["reset", "-q", "--keep", tip], { allowFailure: true });
    if (keep.code !== 0) await gitWithIndexLock(tree.root, ["reset", "-q", tip]);
  }
  const what = symbolic ? `HEAD was moved to ${symbolic.replace(/^refs\/heads\//, "branch ")}` : `HEAD was moved to ${headAt.slice(0, 12)} (a commit or reset)`;
  return [`${what}: put it back at ${tip.slice(0, 12)}${moved ? `; the history it made is kept in ${patchFile}` : ""}`];
}

/** A worktree's identity, read when ws hands it to a step. */
export async function readTreeIdentity(root: string): Promise<TreeIdentity> {
  const [top = "", gitDir = ""] = (await gitText(root, ["rev-parse", "--show-toplevel", "--absolute-git-dir"])).split("\n");
  return { root: top, gitDir, dotGit: await readFile(path.join(top, ".git"), "utf8") };
}
