import { git, splitNul } from "./run-git.js";
import { branchCommit, headCommit, isAncestor } from "./repo.js";

/** Whether `git merge <branch>` would work in the user's checkout right now, and if not, why. */
export type MergeCheck =
  | { kind: "clean" }
  /** The branch holds nothing HEAD lacks. */
  | { kind: "up-to-date" }
  | {
      kind: "blocked";
      /** Paths both sides changed differently. */
      conflicts: string[];
      /** Uncommitted (or staged) changes in the checkout that the merge would overwrite. */
      localChanges: string[];
      /** Untracked files in the checkout that the merge would overwrite. */
      untracked: string[];
    };

/**
 * Checks `git merge <branch>` without touching the checkout, its index or its refs: the merged
 * tree comes from `git merge-tree --write-tree` (objects only), and the files it would change are
 * compared with the checkout's uncommitted and untracked files, the two things git refuses to
 * overwrite. A non-fast-forward merge also refuses any staged change.
 */
export async function checkMerge(checkout: string, branch: string): Promise<MergeCheck> {
  const head = await headCommit(checkout);
  const tip = await branchCommit(checkout, branch);
  if (head === undefined || tip === undefined) return { kind: "clean" };
  if (await isAncestor(checkout, tip, head)) return { kind: "up-to-date" };
  const fastForward = await isAncestor(checkout, head, tip);
  const merged = await git(checkout, ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", head, tip], { allowFailure: true });
  const [tree = "", ...conflicted] = splitNul(merged.stdout);
  // Exit 1 means conflicts; anything else (an old git without --write-tree) means we can't tell: don't block.
  if (merged.code > 1 || tree === "") return { kind: "clean" };
  const conflicts = merged.code === 1 ? [...new Set(conflicted.filter(Boolean))] : [];
  const touched = new Set(await names(checkout, ["diff", "--name-only", "-z", "--no-renames", head, tree]));
  const dirty = await names(checkout, ["diff", "--name-only", "-z", "--no-renames", "HEAD"]);
  const staged = fastForward ? [] : await names(checkout, ["diff", "--cached", "--name-only", "-z", "--no-renames", "HEAD"]);
  const localChanges = [...new Set([...dirty.filter((f) => touched.has(f)), ...staged])].sort();
  const untracked = (await names(checkout, ["ls-files", "--others", "--exclude-standard", "-z"])).filter((f) => touched.has(f));
  if (conflicts.length === 0 && localChanges.length === 0 && untracked.length === 0) return { kind: "clean" };
  return { kind: "blocked", conflicts, localChanges, untracked };
}

/** One line for the user: the merge command, or exactly what stands in its way. */
export function describeMerge(branch: string, check: MergeCheck): string[] {
  if (check.kind === "up-to-date") return [`branch ${branch} has nothing your checkout lacks (nothing to merge)`];
  if (check.kind === "clean") return [`work is on branch ${branch}; merge it with: git merge ${branch}`];
  const list = (files: string[]) => files.slice(0, 8).join(", ") + (files.length > 8 ? `, ... (${files.length} in all)` : "");
  const lines = [`work is on branch ${branch}, but \`git merge ${branch}\` would fail now:`];
  if (check.localChanges.length > 0) lines.push(`  your uncommitted changes to ${list(check.localChanges)} would be overwritten: commit or stash them first`);
  if (check.untracked.length > 0) lines.push(`  untracked ${list(check.untracked)} would be overwritten: move ${check.untracked.length === 1 ? "it" : "them"} away (or add ${check.untracked.length === 1 ? "it" : "them"}) first`);
  if (check.conflicts.length > 0) lines.push(`  ${list(check.conflicts)} changed on both sides: the merge would stop with conflicts to resolve`);
  lines.push(`  then: git merge ${branch}`);
  return lines;
}

async function names(cwd: string, args: string[]): Promise<string[]> {
  return splitNul((await git(cwd, args)).stdout);
}

