import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { gitDirsOf, readHead, readRef } from "../git/read-refs.js";
import { wsPaths } from "../store/paths.js";
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
  const cache = path.join(wsPaths(ctx.cwd, state.wsId).root, ADVICE_FILE);
  const before = commitsNow(ctx, branch);
  if (before !== undefined && isCachedUpToDate(cache, branch, before)) return { kind: "checked", branch, check: { kind: "up-to-date" } };
  const { gitRoot } = await import("../git/repo.js");
  const { checkMerge } = await import("../git/merge-check.js");
  const root = (await gitRoot(ctx.cwd)) ?? ctx.cwd;
  const check = await checkMerge(root, branch);
  // Kept only when HEAD and the branch did not move while git looked.
  if (check.kind === "up-to-date" && before !== undefined && sameCommits(before, commitsNow(ctx, branch))) writeUpToDate(cache, branch, before);
  return { kind: "checked", branch, check };
}

/**
 * "Nothing to merge" depends on two commits alone (the branch's tip is in HEAD's history), so it
 * is kept in the run's state folder with those commits, read from `.git` without git: the next
 * `ws status` or `ws list` of a merged run starts no git process. The other answers depend on the
 * checkout's uncommitted and untracked files too, so they are asked of git every time.
 */
const ADVICE_FILE = "merge-advice.json";

interface Commits {
  head: string;
  tip: string;
}

function commitsNow(ctx: CliContext, branch: string): Commits | undefined {
  const dirs = gitDirsOf(ctx.cwd, ctx.env);
  const head = dirs && readHead(dirs);
  const tip = dirs && readRef(dirs, `refs/heads/${branch}`);
  return head !== undefined && tip !== undefined ? { head, tip } : undefined;
}

function sameCommits(a: Commits, b: Commits | undefined): boolean {
  return b !== undefined && a.head === b.head && a.tip === b.tip;
}

function isCachedUpToDate(file: string, branch: string, now: Commits): boolean {
  try {
    const kept = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Commits> & { branch?: string; kind?: string };
    return kept.kind === "up-to-date" && kept.branch === branch && sameCommits(now, kept as Commits);
  } catch {
    return false;
  }
}

function writeUpToDate(file: string, branch: string, commits: Commits): void {
  try {
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify({ kind: "up-to-date", branch, ...commits })}\n`);
    fs.renameSync(temp, file);
  } catch {
    // A state folder this user cannot write: git is asked again next time, no more.
  }
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
