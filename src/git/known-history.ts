import { gitText } from "./run-git.js";
import { treeOfCommit } from "./trees.js";

/**
 * The commits ws made in this process (a step's commit, a join, a copy, an undo), with their
 * parents and trees, so that the questions a run asks at every hop (is this commit in that one's
 * history? what tree does it hold?) are answered without starting git (issue 32: a git process
 * costs 3-4 ms of wall on a loaded 2-core machine, and a hop asked up to a dozen of them).
 *
 * Only "yes" is ever derived from a partial picture, never "no" about a commit ws did not make:
 * a commit made here cannot be in the history of one that existed before it (its id names its
 * parents), so "no" is certain for a commit of this process, and every other question goes to git.
 * A commit ws made but forgot to record only costs a git process (or, for a join, a merge commit
 * where a fast-forward would have done); it can never make an answer wrong.
 */
class KnownHistory {
  private readonly parents = new Map<string, readonly string[]>();
  private readonly trees = new Map<string, string>();
  private readonly messages = new Map<string, string>();

  /** A commit ws just made: its parents, its tree, and its message (as `git log --format=%B` trimmed). */
  add(commit: string, parents: readonly string[], tree: string, message?: string): void {
    this.parents.set(commit, parents);
    this.trees.set(commit, tree);
    if (message !== undefined) this.messages.set(commit, message.trim());
  }

  messageOf(commit: string): string | undefined {
    return this.messages.get(commit);
  }

  parentsOf(commit: string): readonly string[] | undefined {
    return this.parents.get(commit);
  }

  /** Whether `commit` is in the history of `of` (the same commit counts), or undefined when only git knows. */
  isAncestor(commit: string, of: string): boolean | undefined {
    if (commit === of) return true;
    const seen = new Set<string>();
    const todo = [of];
    let frontier = false;
    while (todo.length > 0) {
      const next = todo.pop()!;
      if (next === commit) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      const parents = this.parents.get(next);
      if (parents === undefined) frontier = true;
      else todo.push(...parents);
    }
    // Not reached through what is known: certain for a commit of ours, else the frontier may hold it.
    return this.parents.has(commit) || !frontier ? false : undefined;
  }

  /** The tree of `commit` when known without git. */
  knownTree(commit: string): string | undefined {
    return this.trees.get(commit);
  }

  /**
   * The one best common ancestor of `a` and `b` (what `git merge-base` says), when what is known
   * tells: everything behind both reaches a single commit ws did not make (the run's base), and
   * exactly one common ancestor has no other common one below it. Undefined otherwise.
   */
  mergeBase(a: string, b: string): string | undefined {
    const frontier = new Set<string>();
    const behind = (start: string): Set<string> => {
      const seen = new Set<string>();
      const todo = [start];
      while (todo.length > 0) {
        const next = todo.pop()!;
        if (seen.has(next)) continue;
        seen.add(next);
        const parents = this.parents.get(next);
        if (parents === undefined) frontier.add(next);
        else todo.push(...parents);
      }
      return seen;
    };
    const fromA = behind(a);
    const fromB = behind(b);
    if (frontier.size !== 1) return undefined;
    const common = [...fromA].filter((c) => fromB.has(c));
    // A common ancestor behind another one is not a best one: all that lies behind the parents of the common ones.
    const below = new Set<string>();
    const todo = common.flatMap((c) => [...(this.parents.get(c) ?? [])]);
    while (todo.length > 0) {
      const next = todo.pop()!;
      if (below.has(next)) continue;
      below.add(next);
      todo.push(...(this.parents.get(next) ?? []));
    }
    const best = common.filter((c) => !below.has(c));
    return best.length === 1 ? best[0] : undefined;
  }

  /** The tree of `commit`, asked of git once per commit (`cwd`: a repository that has it): a line
   *  to the long-lived object reader, or a `rev-parse` when it cannot answer. */
  async treeOf(cwd: string, commit: string): Promise<string> {
    return (await this.treesOf(cwd, [commit]))[0] ?? "";
  }

  /** Trees of several commits: those not known yet from the object reader, else one git process. */
  async treesOf(cwd: string, commits: readonly string[]): Promise<string[]> {
    let missing = [...new Set(commits.filter((c) => !this.trees.has(c)))];
    const read = await Promise.all(missing.map((c) => treeOfCommit(cwd, c)));
    missing.forEach((c, i) => read[i] !== undefined && this.trees.set(c, read[i]));
    missing = missing.filter((c) => !this.trees.has(c));
    if (missing.length > 0) {
      const trees = (await gitText(cwd, ["rev-parse", ...missing.map((c) => `${c}^{tree}`)])).split("\n");
      missing.forEach((c, i) => this.trees.set(c, trees[i] ?? ""));
    }
    return commits.map((c) => this.trees.get(c) ?? "");
  }
}

/** One per process: commits are the same objects whichever repository or lane asks. */
export const knownHistory = new KnownHistory();
