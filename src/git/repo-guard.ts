import { lstat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Snapshot } from "./changes.js";
import { gitDirChanges, readGitDir, readRefs, refsExcept, restoreGitDir, restoreRefs, type GitDirFiles, type GitDirWatch, type Refs } from "./git-dir-guard.js";
import { PINS } from "./lane-git-dir.js";
import { pointsOutside } from "./links.js";
import { gitText } from "./run-git.js";
import { serialized } from "./tree-queue.js";

/** Branches of ws runs (other runs of the repository move theirs). */
export const RUN_BRANCHES = "refs/heads/ws/";

export interface RepoGuardOptions {
  /** Where steps run in place: the user's checkout (isolation "none"). */
  workdir: string;
}

/**
 * What a step running in place must leave alone besides the files outside its scope: the shared
 * git dir (hooks/, config, info/) and the refs of everything but ws's run branches and the
 * checked-out branch the steps work on. A baseline is taken when the run starts; after each
 * attempt, `check` compares, puts back what changed, keeps the step's version under the attempt's
 * keep folder and says what happened, which fails the step as a `scope_violation`.
 *
 * Worktree runs do not use it: a step there has a worktree of its own, whose changes are exactly
 * its own, and what changes outside it is only reported (outside-watch.ts): ws cannot tell a
 * step's escape from the user's own work, and never reverts what it may not have written.
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
  ) {}

  static async open(options: RepoGuardOptions): Promise<RepoGuard> {
    const { workdir } = options;
    const { watch, common } = await gitDirWatch(workdir);
    // In place, the steps work on the user's branch itself; the scope check judges their files.
    const current = await gitText(workdir, ["symbolic-ref", "-q", "HEAD"]).catch(() => "");
    // Another workstream's worktree run in the same repository moves its branch and lane pins.
    const ignoreRef = (ref: string) => ref.startsWith(RUN_BRANCHES) || ref.startsWith(PINS) || ref === current;
    const root = await gitText(workdir, ["rev-parse", "--show-toplevel"]);
    return new RepoGuard(root, workdir, watch, common, await readGitDir(watch), ignoreRef, await readRefs(workdir, ignoreRef));
  }

  /** After an attempt: finds, reverts and keeps (under `keepDir`) what the step must not have
   *  changed; one sentence per kind of change, none when all is well. */
  check(keepDir: string): Promise<string[]> {
    return serialized(() => this.checkNow(keepDir));
  }

  private async checkNow(keepDir: string): Promise<string[]> {
    const findings: string[] = [];
    if ((await lstat(this.workdir).catch(() => undefined)) === undefined) {
      // A folder the steps run in, deleted: its tracked files come back through the scope check.
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
    return findings;
  }
}

/** What of the shared git dir could make git run code or point elsewhere: hooks/, info/, config. */
export async function gitDirWatch(workdir: string): Promise<{ watch: GitDirWatch; common: string }> {
  const [common = "", own = ""] = (await gitText(workdir, ["rev-parse", "--path-format=absolute", "--git-common-dir", "--git-dir"])).split("\n");
  const watch: GitDirWatch = {
    folders: [path.join(common, "hooks"), path.join(common, "info")],
    files: [path.join(common, "config"), path.join(common, "config.worktree")],
  };
  if (own !== common) watch.files.push(...["config.worktree", "commondir", "gitdir"].map((f) => path.join(own, f)));
  return { watch, common };
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

/** The run header's word on what isolation "none" leaves unprotected (issue 14: said plainly). */
export function inPlaceNote(inGit: boolean): string {
  return inGit
    ? 'isolation "none": steps run in your checkout and nothing is committed; file_scope is enforced only for files git sees (ignored files such as .env, and anything outside the repository, are not protected)'
    : "not a git repository: steps run in place, file_scope is not enforced and nothing is committed or reverted";
}
