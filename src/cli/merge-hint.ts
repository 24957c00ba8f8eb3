import type { CliContext } from "./context.js";

/** The closing line of a run with worktree isolation: `git merge <branch>` when it would work,
 *  otherwise what blocks it (checked in the user's checkout without changing anything). */
export async function mergeHint(ctx: CliContext, branch: string): Promise<string[]> {
  const { gitRoot } = await import("../git/repo.js");
  const { checkMerge, describeMerge } = await import("../git/merge-check.js");
  const root = (await gitRoot(ctx.cwd)) ?? ctx.cwd;
  return describeMerge(branch, await checkMerge(root, branch));
}
