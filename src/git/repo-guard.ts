import { lstat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { readTreeIdentity, recoverTree, restoreBranch, type TreeIdentity } from "./branch-guard.js";
import { changedBetween, snapshot, type Snapshot } from "./changes.js";
import { gitDirChanges, readGitDir, readRefs, refsExcept, restoreGitDir, restoreRefs, type GitDirFiles, type GitDirWatch, type Refs } from "./git-dir-guard.js";
import { branchCommit } from "./repo.js";
import { clearStaleIndexLock, indexLockError } from "./index-lock.js";
import { pointsOutside } from "./links.js";
import { git, gitText, splitNul } from "./run-git.js";
import { revertChanges } from "./scope-check.js";
import { serialized } from "./tree-queue.js";

/** Branches of ws runs (this one's is checked on its own; other runs of the repository move theirs). */
const RUN_BRANCHES = "refs/heads/ws/";

export interface RepoGuardOptions {
  /** Where steps run (the worktree, or a folder of it; the checkout with isolation "none"). */
  workdir: string;
  /** Worktree isolation: the run's branch, and the user's checkout, which no step may touch. */
  worktree?: { branch: string; checkout: string };
}

/**
 * What a step must leave alone besides the files outside its scope: the shared git dir (hooks/,
 * config, info/, the refs of everything but ws's run branches), and with worktree isolation the
 * user's checkout (its files as `git status` sees them, and its HEAD), the worktree's `.git` link
 * and the run's branch. A baseline is taken when the run starts; after each attempt, `check`
 * compares, puts back what changed, keeps the step's version under the attempt's keep folder and
 * says what happened, which fails the step as a `scope_violation`.
 *
 * Within one run every change is attributed to the attempt whose check sees it first; something
 * the user does in their checkout or repository while a run is going is seen the same way (and
 * kept, not lost). Files git ignores and files outside the repository are not seen: that needs
 * isolation "sandbox".
 */
export class RepoGuard {
  private constructor(
    /** The top of the repository's work tree the steps run in. */
    readonly root: string,
    private readonly workdir: string,
    private readonly watch: GitDirWatch,
    private readonly commonDir: string,
    private readonly files: GitDirFiles,
    private readonly ignoreRef: (ref: string) => boolean,
    private readonly refs: Refs,
    private readonly tree: TreeIdentity | undefined,
    private tip: string,
    private readonly checkout: { root: string; baseline: Snapshot; quick: Buffer } | undefined,
  ) {}

  static async open(options: RepoGuardOptions): Promise<RepoGuard> {
    const { workdir, worktree } = options;
    const [common = "", own = ""] = (await gitText(workdir, ["rev-parse", "--path-format=absolute", "--git-common-dir", "--git-dir"])).split("\n");
    const watch: GitDirWatch = {
      folders: [path.join(common, "hooks"), path.join(common, "info")],
      files: [path.join(common, "config"), path.join(common, "config.worktree")],
    };
    if (own !== common) watch.files.push(...["config.worktree", "commondir", "gitdir"].map((f) => path.join(own, f)));
    let ignoreRef: (ref: string) => boolean;
    if (worktree) {
      // The checkout's HEAD: a step that switches the user's branch is caught like one editing a file.
      watch.files.push(path.join(common, "HEAD"));
      ignoreRef = (ref) => ref.startsWith(RUN_BRANCHES);
    } else {
      // In place, the steps work on the user's branch itself; the scope check judges their files.
      const current = await gitText(workdir, ["symbolic-ref", "-q", "HEAD"]).catch(() => "");
      ignoreRef = (ref) => ref.startsWith(RUN_BRANCHES) || ref === current;
    }
    const tree = worktree ? await readTreeIdentity(workdir, worktree.branch) : undefined;
    const tip = tree ? ((await branchCommit(workdir, tree.branch)) ?? "") : "";
    const checkoutRoot = worktree ? await gitText(worktree.checkout, ["rev-parse", "--show-toplevel"]) : undefined;
    return new RepoGuard(
      await gitText(workdir, ["rev-parse", "--show-toplevel"]),
      workdir,
      watch,
      common,
      await readGitDir(watch),
      ignoreRef,
      await readRefs(workdir, ignoreRef),
      tree,
      tip,
      checkoutRoot ? { root: checkoutRoot, quick: await quickLook(checkoutRoot), baseline: await snapshot(checkoutRoot) } : undefined,
    );
  }

  /** ws committed on the run's branch: the new tip is what HEAD must be at from now on. */
  noteCommit(sha: string): void {
    this.tip = sha;
  }

  /** The run's branch (worktree isolation), which ws's commits go to whatever HEAD says. */
  get branch(): string | undefined {
    return this.tree?.branch;
  }

  /** After an attempt: finds, reverts and keeps (under `keepDir`) what the step must not have
   *  changed; one sentence per kind of change, none when all is well. */
  check(keepDir: string): Promise<string[]> {
    return serialized(() => this.checkNow(keepDir));
  }

  private async checkNow(keepDir: string): Promise<string[]> {
    const findings: string[] = [];
    if (this.tree) findings.push(...(await recoverTree(this.tree, this.tip, keepDir)));
    if ((await lstat(this.workdir).catch(() => undefined)) === undefined) {
      // A folder of the worktree the steps run in, deleted: its tracked files come back through the scope check.
      await mkdir(this.workdir, { recursive: true });
      findings.push(`the step's working folder ${this.workdir} was deleted; recreated it`);
    }
    const files = await readGitDir(this.watch);
    const changed = gitDirChanges(this.files, files);
    if (changed.length > 0) {
      const kept = path.join(keepDir, "git-dir");
      await restoreGitDir(changed, this.files, this.commonDir, kept);
      const names = changed.map((f) => path.relative(this.commonDir, f)).join(", ");
      findings.push(`changed the repository's git dir (${names}); reverted, the step's version is kept in ${kept}`);
    }
    const allRefs = await readRefs(this.workdir);
    const refLines = await restoreRefs(this.workdir, this.refs, refsExcept(allRefs, this.ignoreRef));
    if (refLines.length > 0) {
      const file = path.join(keepDir, "refs.txt");
      await mkdir(keepDir, { recursive: true });
      await writeFile(file, refLines.join("\n") + "\n");
      findings.push(`changed git refs (${refLines.map((l) => l.split(" ")[0]).join(", ")}); put back, old and new values in ${file}`);
    }
    if (this.tree) findings.push(...(await restoreBranch(this.tree, this.tip, path.join(keepDir, "history.patch"), allRefs)));
    if (this.checkout) findings.push(...(await this.checkCheckout(keepDir)));
    return findings;
  }

  private async checkCheckout(keepDir: string): Promise<string[]> {
    const checkout = this.checkout!;
    const { root, baseline } = checkout;
    // One `git status` and a stat of its dirty files when nothing changed (the usual case); the
    // full snapshot (hashing every dirty file) only when something did.
    if (checkout.quick.equals(await quickLook(root))) return [];
    const after = await snapshot(root);
    const files = changedBetween(baseline, after);
    const patchFile = path.join(keepDir, "checkout.patch");
    const reverted = files.length > 0 ? await revertChanges({ cwd: root, before: baseline, after, files, patchFile }) : { violations: [] };
    // What is there now matches the baseline: the next check compares with this look.
    checkout.quick = await quickLook(root);
    if (reverted.violations.length === 0) return [];
    return [`changed files in your checkout ${root}: ${reverted.violations.join(", ")} (kept in ${patchFile}, then reverted)`];
  }
}

/** `git status` of a checkout plus size, mtime, inode and mode of each file it lists: equal
 *  bytes mean nothing changed there (a file edited twice within one mtime tick with the same size
 *  escapes this; the step's own worktree is always hashed in full). */
async function quickLook(root: string): Promise<Buffer> {
  const status = (await git(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"])).stdout;
  const signs: string[] = [];
  for (const field of splitNul(status)) {
    const file = field.length > 3 && field[2] === " " ? field.slice(3) : field;
    const stats = await lstat(path.join(root, file), { bigint: true }).catch(() => undefined);
    signs.push(stats ? `${stats.size}:${stats.mtimeNs}:${stats.ino}:${stats.mode}` : "-");
  }
  return Buffer.concat([status, Buffer.from(signs.join("\n"))]);
}

/** Symlinks among `changed` (paths relative to `cwd`, as in `after`) whose target lies outside
 *  `root`: whatever is written through them lands outside the tree, so they are never kept. */
export async function outwardLinks(cwd: string, root: string, after: Snapshot, changed: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of changed) {
    if (after.get(file)?.endsWith(" 120000") && (await pointsOutside(path.join(cwd, file), root))) out.push(file);
  }
  return out;
}

/** Opens the guard of a worktree run, after removing a stale index.lock an interrupted run left
 *  in the worktree's git dir (every later git command would fail on it); notes say what was done. */
export async function openTreeGuard(options: RepoGuardOptions): Promise<{ guard: RepoGuard; notes: string[] }> {
  const notes: string[] = [];
  const lock = await clearStaleIndexLock(options.workdir);
  if (lock === "removed") notes.push("removed a stale index.lock that an interrupted run left in the worktree's git dir");
  if (lock === "held") throw await indexLockError(options.workdir);
  return { guard: await RepoGuard.open(options), notes };
}

/** The run header's word on what isolation "none" leaves unprotected (issue 14: said plainly). */
export function inPlaceNote(inGit: boolean): string {
  return inGit
    ? 'isolation "none": steps run in your checkout and nothing is committed; file_scope is enforced only for files git sees (ignored files such as .env, and anything outside the repository, are not protected)'
    : "not a git repository: steps run in place, file_scope is not enforced and nothing is committed or reverted";
}
