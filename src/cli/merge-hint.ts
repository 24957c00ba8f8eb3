import type { CliContext } from "./context.js";
import type { MergeCheck } from "../git/merge-check.js";
import type { RunState } from "../store/run-state.js";

/**
 * What to do with a run's branch. `ws run`'s summary, `ws status` and `ws list` all word this one
 * answer, so they cannot disagree (status said `git merge` where the summary said "nothing to merge").
 */
export type MergeAdvice =
  /** The run had no branch (isolation "none"), or it is still going: nothing to say yet. */
  | { kind: "none" }
  /** No step committed anything on the branch: a checks-only run, or one where nothing passed.
   *  The branch then holds at most the run's base (the user's own uncommitted work): no advice. */
  | { kind: "nothing"; branch: string }
  | { kind: "checked"; branch: string; check: MergeCheck };

export async function mergeAdvice(ctx: CliContext, state: RunState): Promise<MergeAdvice> {
  const branch = state.branch;
  if (branch === undefined || state.status === "running") return { kind: "none" };
  // A compensated step's commit was undone on the branch: there is no work of it to merge.
  if (!Object.values(state.steps).some((record) => record.commit !== undefined && record.compensation?.state !== "passed")) return { kind: "nothing", branch };
  const { gitRoot } = await import("../git/repo.js");
  const { checkMerge } = await import("../git/merge-check.js");
  const root = (await gitRoot(ctx.cwd)) ?? ctx.cwd;
  return { kind: "checked", branch, check: await checkMerge(root, branch) };
}

/** The closing lines: `git merge <branch>` when it would work, otherwise what blocks it; none when there is nothing to merge. */
export async function adviceLines(advice: MergeAdvice): Promise<string[]> {
  if (advice.kind !== "checked") return [];
  const { describeMerge } = await import("../git/merge-check.js");
  return describeMerge(advice.branch, advice.check);
}

/** Work of a run that the checkout lacks: its branch, and whether `git merge` would work now. */
export interface PendingMerge {
  branch: string;
  ready: boolean;
}

export function pendingMerge(advice: MergeAdvice): PendingMerge | undefined {
  if (advice.kind !== "checked" || advice.check.kind === "up-to-date") return undefined;
  return { branch: advice.branch, ready: advice.check.kind === "clean" };
}

/** One line per workstream, for the lists of many (`ws list`); the details are in `ws status <id>`. */
export function pendingMergeLine(wsId: string, pending: PendingMerge): string {
  if (pending.ready) return `${wsId}: merge its work with: git merge ${pending.branch}`;
  return `${wsId}: work is on branch ${pending.branch}, but \`git merge ${pending.branch}\` would fail now (why: ws status ${wsId})`;
}
