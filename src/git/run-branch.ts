import fs from "node:fs";
import path from "node:path";
import { trailerLine } from "./branch-name.js";
import { identityEnv } from "./commit.js";
import { makeCommit, warmWriters, when } from "./object-writer.js";
import { warmReader } from "./object-reader.js";
import { knownHistory } from "./known-history.js";
import { isAncestor as askGit } from "./repo.js";
import { binaryDiff, git, gitText, splitNul } from "./run-git.js";
import { scratchTree } from "./scratch-index.js";
import { mergeTreesInProcess } from "./tree-merge.js";
import { serialized } from "./tree-queue.js";
import { writeRefFile } from "./ref-file.js";

/** Two steps' work that git cannot merge: which steps, which files. */
export interface MergeConflict {
  steps: string[];
  files: string[];
}

/** A step's result as a commit: its own commit, or (no changes, or not passed) the base it ran on. */
export interface StepResult {
  step: string;
  commit: string;
}

/**
 * The run's branch and the commits steps start from. A step's base is the run's base merged with
 * its dependencies' results in the graph's order, so two runs of the same graph build the same
 * trees whatever order steps finished in. Each passed step's commit then joins the branch: a
 * fast-forward when the branch has nothing the step lacks, else a merge commit. Nothing here
 * touches a work tree or an index: merges are made with `git merge-tree --write-tree`.
 */
export class RunBranch {
  constructor(
    private readonly gitRoot: string,
    readonly name: string,
    readonly base: string,
    private tip: string,
    private readonly wsId: string,
  ) {}

  get head(): string {
    return this.tip;
  }

  /** Bases asked for already, by their dependencies' results: steps with the same dependencies
   *  (the fan-out after a join) start from one join, made once, and a join of the first
   *  dependencies made while the last one still runs (see StepUnits) is not made again. */
  private readonly bases = new Map<string, Promise<{ commit: string } | { conflict: MergeConflict }>>();

  /** The commit a step starts from; a conflict between two of its dependencies fails it before it runs. */
  baseFor(parents: StepResult[]): Promise<{ commit: string } | { conflict: MergeConflict }> {
    if (parents.length === 0) return Promise.resolve({ commit: this.base });
    const key = parents.map((p) => `${p.step}\0${p.commit}`).join("\0");
    let base = this.bases.get(key);
    if (base === undefined) {
      this.bases.set(key, (base = this.extend(parents)));
      base.catch(() => this.bases.delete(key));
    }
    return base;
  }

  /** The join of all but the last dependency, merged with the last. */
  private async extend(parents: StepResult[]): Promise<{ commit: string } | { conflict: MergeConflict }> {
    const merged = parents.slice(0, -1);
    const parent = parents.at(-1)!;
    const prefix = await this.baseFor(merged);
    if ("conflict" in prefix) return prefix;
    const next = await mergeCommits(this.gitRoot, prefix.commit, parent.commit, `ws: join ${parents.map((p) => p.step).join(" + ")}\n\n${trailerLine(this.wsId)}\n`);
    if ("conflict" in next) return { conflict: { steps: [...(await this.touching(merged, next.conflict)), parent.step], files: next.conflict } };
    return { commit: next.commit };
  }

  /** Puts a passed step's commit on the branch; one at a time. */
  integrate(step: string, commit: string): Promise<{ ok: true } | { conflict: MergeConflict }> {
    return serialized(async () => {
      // A step that started from the tip (a chain's next step) goes on by fast-forward, unasked.
      const fastForward = knownHistory.parentsOf(commit)?.[0] === this.tip ? { commit } : undefined;
      const next = fastForward ?? (await this.replay(commit)) ?? (await mergeCommits(this.gitRoot, this.tip, commit, `ws: merge ${step}\n\n${trailerLine(this.wsId)}\n`));
      if ("conflict" in next) return { conflict: { steps: [...(await this.stepsOnBranch(next.conflict)), step], files: next.conflict } };
      if (next.commit !== this.tip) await this.moveTip(next.commit, `ws: ${step}`);
      return { ok: true };
    });
  }

  /**
   * A step whose base holds exactly what the branch holds (a join of the same work, made apart)
   * goes onto the branch as a copy of its commit, keeping the history linear; undefined otherwise.
   */
  private async replay(commit: string): Promise<{ commit: string } | undefined> {
    const parent = knownHistory.parentsOf(commit)?.[0] ?? `${commit}^1`;
    const [tree = "", parentTree = "", tipTree = ""] = await knownHistory.treesOf(this.gitRoot, [commit, parent, this.tip]);
    if (parentTree !== tipTree || (await isAncestor(this.gitRoot, commit, this.tip)) || (await isAncestor(this.gitRoot, this.tip, commit))) return undefined;
    const message = knownHistory.messageOf(commit) ?? (await gitText(this.gitRoot, ["log", "-1", "--format=%B", commit]));
    const copy = await makeCommit(this.gitRoot, tree, [this.tip], `${message}\n`, await identityEnv(this.gitRoot));
    knownHistory.add(copy, [this.tip], tree, message);
    return { commit: copy };
  }

  /**
   * A compensated step's commit, undone on the branch by a commit of its own (its changes applied
   * in reverse on the tip); the new tip, or undefined when there was nothing to undo or later work
   * on the same lines keeps git from undoing it (the branch is then left as it is).
   */
  undo(step: string, commit: string | undefined): Promise<string | undefined> {
    return serialized(async () => {
      if (commit === undefined || !(await isAncestor(this.gitRoot, commit, this.tip))) return undefined;
      const patch = await binaryDiff(this.gitRoot, `${commit}^1`, commit);
      if (patch.length === 0) return undefined;
      let applied = true;
      const tree = await scratchTree(this.gitRoot, { tree: this.tip }, async (env) => {
        applied = (await git(this.gitRoot, ["apply", "--cached", "--reverse", "-"], { env, input: patch, allowFailure: true })).code === 0;
      });
      if (!applied) return undefined;
      const undone = await makeCommit(this.gitRoot, tree, [this.tip], `ws(${step}): undo (compensated)\n\n${trailerLine(this.wsId)}\n`, await identityEnv(this.gitRoot));
      knownHistory.add(undone, [this.tip], tree);
      await this.moveTip(undone, `ws: undo ${step}`);
      return undone;
    });
  }

  private common: Promise<string> | undefined;

  /**
   * Asks, while the run sets up, what the first commit and join would otherwise ask on their way
   * (issue 32): the long-lived reader and writers started, the git dir, who authors, the base's tree.
   */
  warm(): void {
    warmReader(this.gitRoot);
    warmWriters(this.gitRoot);
    this.common ??= gitText(this.gitRoot, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
    this.common.catch(() => (this.common = undefined));
    identityEnv(this.gitRoot).catch(() => undefined);
    knownHistory.treeOf(this.gitRoot, this.base).catch(() => undefined);
  }

  /**
   * The branch moved from the tip to `next`, as `update-ref -m <why> <ref> <next> <tip>` would:
   * the loose ref written under `<ref>.lock` (git's own lock, which a concurrent `git pack-refs`
   * or `git branch` of the user respects) after checking it still holds the tip, with a reflog
   * line when the branch has a reflog. A git process fewer between a step's tests and its end
   * (issue 32). Anything else (a packed or reftable ref, the lock held, the ref moved) goes to
   * update-ref, which fails loudly when the ref moved.
   */
  private async moveTip(next: string, why: string): Promise<void> {
    this.common ??= gitText(this.gitRoot, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
    const common = await this.common.catch(() => undefined);
    const identity = await identityEnv(this.gitRoot);
    const who = `${process.env.GIT_COMMITTER_NAME || identity.GIT_COMMITTER_NAME} <${process.env.GIT_COMMITTER_EMAIL || identity.GIT_COMMITTER_EMAIL}> ${when(new Date())}`;
    const ref = `refs/heads/${this.name}`;
    if (common === undefined || fs.existsSync(path.join(common, "reftable")) || !writeRefFile(path.join(common, ref), next, { from: this.tip, reflog: { file: path.join(common, "logs", ref), line: `${this.tip} ${next} ${who}\t${why.replace(/\n/g, " ")}\n` } })) {
      await git(this.gitRoot, ["update-ref", "-m", why, ref, next, this.tip]);
    }
    this.tip = next;
  }

  /** Which of `results` changed one of `files` since the run's base. */
  private async touching(results: StepResult[], files: string[]): Promise<string[]> {
    const named: string[] = [];
    for (const result of results) {
      const changed = splitNul((await git(this.gitRoot, ["diff", "--name-only", "-z", "--no-renames", this.base, result.commit, "--", ...files])).stdout);
      if (changed.length > 0) named.push(result.step);
    }
    return named.length > 0 ? named : results.map((r) => r.step);
  }

  /** The steps whose commits on the branch changed `files` (their subjects say `ws(<step>): …`). */
  private async stepsOnBranch(files: string[]): Promise<string[]> {
    const log = await gitText(this.gitRoot, ["log", "--no-merges", "--format=%s", `${this.base}..${this.tip}`, "--", ...files]);
    const steps = log.split("\n").map((s) => /^ws\(([^)]+)\):/.exec(s)?.[1]).filter((s): s is string => s !== undefined);
    return [...new Set(steps)];
  }
}

/**
 * Merge commits ws made, by their parents: a join a dependent starts from and the merge that put
 * the same step onto the run's branch are one commit (whichever was asked for first, its message
 * naming what it was made for), not two of the same tree. Two would give the next merge two best
 * common ancestors, which git merges into a base of its own and ws leaves to git (issue 32).
 */
const merges = new Map<string, string>();

/** `a` and `b` merged: one of them when it holds the other, else a merge commit; or the files in conflict. */
export async function mergeCommits(cwd: string, a: string, b: string, message: string): Promise<{ commit: string } | { conflict: string[] }> {
  if (a === b || (await isAncestor(cwd, b, a))) return { commit: a };
  if (await isAncestor(cwd, a, b)) return { commit: b };
  const made = merges.get(`${a}\0${b}`);
  if (made !== undefined) return { commit: made };
  const merged = await mergeTrees(cwd, a, b);
  if ("conflict" in merged) return merged;
  const { tree } = merged;
  const commit = await makeCommit(cwd, tree, [a, b], message, await identityEnv(cwd));
  knownHistory.add(commit, [a, b], tree);
  merges.set(`${a}\0${b}`, commit);
  return { commit };
}

/**
 * Three-way merges already made, by the trees of both sides and their merge base: the result of
 * `merge-tree` depends on nothing else (one merge base, the same repository). The join a
 * dependent starts from often merges the same trees as the join its last dependency just made
 * onto the run's branch (issue 32): that merge is not made again.
 */
const mergedTrees = new Map<string, { tree: string } | { conflict: string[] }>();

async function mergeTrees(cwd: string, a: string, b: string): Promise<{ tree: string } | { conflict: string[] }> {
  const [treeA, treeB, base] = [knownHistory.knownTree(a), knownHistory.knownTree(b), knownHistory.mergeBase(a, b)];
  const key = treeA && treeB && base ? `${cwd}\0${treeA}\0${treeB}\0${base}` : undefined;
  const known = key === undefined ? undefined : mergedTrees.get(key);
  if (known !== undefined) return known;
  // Two sides that changed different files: merged in process, as merge-tree would (tree-merge.ts).
  const [baseTree] = base === undefined ? [] : await knownHistory.treesOf(cwd, [base]);
  const [ours, theirs] = treeA && treeB ? [treeA, treeB] : await knownHistory.treesOf(cwd, [a, b]);
  const inProcess = baseTree && ours && theirs ? await mergeTreesInProcess(cwd, baseTree, ours, theirs) : undefined;
  if (inProcess !== undefined) {
    if (key !== undefined) mergedTrees.set(key, { tree: inProcess });
    return { tree: inProcess };
  }
  const result = await git(cwd, ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", a, b], { allowFailure: true });
  const [tree = "", ...rest] = splitNul(result.stdout);
  if (result.code > 1) throw new Error(`git merge-tree ${a} ${b} failed: ${result.stderr}`);
  const merged = result.code === 1 ? { conflict: [...new Set(rest.filter(Boolean))] } : { tree };
  if (key !== undefined) mergedTrees.set(key, merged);
  return merged;
}

/** Whether `commit` is in the history of `of`: from what ws made in this process when that tells, else from git. */
async function isAncestor(cwd: string, commit: string, of: string): Promise<boolean> {
  return knownHistory.isAncestor(commit, of) ?? (await askGit(cwd, commit, of));
}

