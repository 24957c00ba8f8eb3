import fs from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import { gitDirChanges, readGitDir, readRefs, type GitDirFiles, type GitDirWatch, type Refs } from "./git-dir-guard.js";
import { gitDirWatch, RUN_BRANCHES } from "./repo-guard.js";
import { PINS } from "./lane-git-dir.js";
import { git, splitNul } from "./run-git.js";

/**
 * What changes outside the steps' own worktrees while a run goes on: the user's checkout (files as
 * `git status` lists them), the shared git dir (hooks/, config, info/) and the refs of everything
 * but ws's run branches. People keep working while agents run, so such a change is reported,
 * never reverted and never charged to a step: ws cannot tell who made it (in the sandbox, steps
 * cannot write there at all). The file ws's own output is redirected into (`ws run > out.txt`)
 * is ws's, not news.
 */
export class OutsideWatch {
  private readonly reported = new Set<string>();

  private constructor(
    private readonly checkout: string,
    private readonly gitDir: { watch: GitDirWatch; common: string },
    private files: GitDirFiles,
    private refs: Refs,
    private look: Map<string, string>,
    private readonly own: Set<string>,
  ) {}

  static async open(checkout: string): Promise<OutsideWatch> {
    const gitDir = await gitDirWatch(checkout);
    const own = new Set<string>();
    for (const fd of [1, 2]) {
      try {
        const stats = fs.fstatSync(fd);
        if (stats.isFile()) own.add(`${stats.dev}:${stats.ino}`);
      } catch {
        // closed: nothing of ws's own to leave out
      }
    }
    return new OutsideWatch(checkout, gitDir, await readGitDir(gitDir.watch), await readRefs(checkout, isRunBranch), await quickLook(checkout, own), own);
  }

  /** What changed since the last look and was not reported yet, as paths and ref names; looks again. */
  async changes(): Promise<string[]> {
    const found: string[] = [];
    // The two git processes at once: the last look stands between the last step's end and the run's.
    const [look, refs] = await Promise.all([quickLook(this.checkout, this.own), readRefs(this.checkout, isRunBranch)]);
    for (const file of new Set([...look.keys(), ...this.look.keys()])) if (look.get(file) !== this.look.get(file)) found.push(file);
    this.look = look;
    const files = await readGitDir(this.gitDir.watch);
    for (const file of gitDirChanges(this.files, files)) found.push(path.relative(this.checkout, file) || file);
    this.files = files;
    for (const ref of new Set([...refs.keys(), ...this.refs.keys()])) if (refs.get(ref) !== this.refs.get(ref)) found.push(ref);
    this.refs = refs;
    const fresh = found.filter((item) => !this.reported.has(item)).sort();
    for (const item of fresh) this.reported.add(item);
    return fresh;
  }
}

/** ws's own refs: the run branches, and the pins that keep lanes' bases (lanes.ts). */
function isRunBranch(ref: string): boolean {
  return ref.startsWith(RUN_BRANCHES) || ref.startsWith(PINS);
}

/** The files `git status` lists in a checkout, each with its status, size, mtime, inode and mode:
 *  a change of any means the file changed. */
async function quickLook(root: string, own: Set<string>): Promise<Map<string, string>> {
  const status = (await git(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"])).stdout;
  const look = new Map<string, string>();
  for (const field of splitNul(status)) {
    const file = field.length > 3 && field[2] === " " ? field.slice(3) : field;
    const stats = await lstat(path.join(root, file), { bigint: true }).catch(() => undefined);
    if (stats && own.has(`${stats.dev}:${stats.ino}`)) continue;
    look.set(file, `${field.slice(0, 2)}:${stats ? `${stats.size}:${stats.mtimeNs}:${stats.ino}:${stats.mode}` : "-"}`);
  }
  return look;
}
