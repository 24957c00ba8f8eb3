import fs from "node:fs";
import { appendFile, mkdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { STATE_FOLDER } from "../store/paths.js";
import { changedBetween, snapshot } from "./changes.js";
import { commitFiles } from "./commit.js";
import { listBackups, MAX_BACKUPS, newBackupName, trailerLine } from "./branch-name.js";
import { branchCommit, gitRoot, isAncestor } from "./repo.js";
import { gitDirsOf, readHead, readRef } from "./read-refs.js";
import { git, gitText, splitNul } from "./run-git.js";

interface RegisteredWorktree {
  path: string;
  head: string | undefined;
  /** Short branch name; undefined when detached. */
  branch: string | undefined;
}

const EXCLUDE_LINE = `${STATE_FOLDER}/`;

/** Adds `.worktrees/` to the repository's info/exclude (once), so ws's state and trees never show
 *  up in the user's `git status`. Also needed with `isolation: none`. */
export async function ensureExcluded(projectRoot: string): Promise<boolean> {
  const file = await excludeFile(projectRoot);
  const text = await readFile(file, "utf8").catch(() => "");
  const present = text.split(/\r?\n/).some((line) => [EXCLUDE_LINE, STATE_FOLDER].includes(line.trim().replace(/^\//, "")));
  if (present) return false;
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${text === "" || text.endsWith("\n") ? "" : "\n"}${EXCLUDE_LINE}\n`);
  return true;
}

// A run makes sure of the line three times on its way to the first step (the watch, the base, the
// branch): where the file is does not change for a repository, so git is asked once per process.
const excludeFiles = new Map<string, Promise<string>>();

function excludeFile(projectRoot: string): Promise<string> {
  let file = excludeFiles.get(projectRoot);
  if (file === undefined) {
    // Where git keeps it (the common git dir's info/, shared by linked worktrees), read from the
    // `.git` files; anything unusual (GIT_DIR, reftable) is asked of git.
    const dirs = gitDirsOf(projectRoot);
    file = dirs ? Promise.resolve(path.join(dirs.commonDir, "info", "exclude")) : gitText(projectRoot, ["rev-parse", "--git-path", "info/exclude"]).then((rel) => path.resolve(projectRoot, rel));
    excludeFiles.set(projectRoot, file);
    file.catch(() => excludeFiles.delete(projectRoot));
  }
  return file;
}

/** Said once, on the first run in a repository: the one thing ws leaves in the project. */
export const STATE_HINT = `ws keeps its run state (logs, status) in ${STATE_FOLDER}/ in the project and hid it from git through .git/info/exclude; a tool that does not read git's ignore files may want ${STATE_FOLDER}/ in its own ignore list (worktrees are outside the project)`;

export interface RunBranchOptions {
  /** The top of the git repository. */
  projectRoot: string;
  wsId: string;
  /** The run's branch (see runBranch). */
  branch: string;
  resume: boolean;
  /** The commit a fresh run starts from (see resolveBase). */
  base: string;
  /** Where the state folder of an older ws kept the run's single worktree (`.worktrees/<id>/tree`). */
  oldTree: string;
}

/**
 * The run's branch, which no worktree of ws checks out (each step works in a detached worktree of
 * its own, lanes.ts): a fresh run points it at the base, a resume goes on from its tip. Nothing
 * may be lost: when the old branch holds commits that are neither in the new base nor made by ws
 * for this workstream (see foreignCommits), it is kept as `<branch>-<yyyymmdd-hhmmss>` (at most
 * MAX_BACKUPS). The single worktree of an older ws inside the project is retired (its uncommitted
 * work committed to its branch first). Refuses (UserError, exit 2) while the branch is checked
 * out in another checkout. Returns the branch's tip for the run.
 */
export async function prepareRunBranch(opts: RunBranchOptions): Promise<{ tip: string; notes: string[] }> {
  const { projectRoot, branch, base } = opts;
  const notes: string[] = [];
  if ((await gitRoot(projectRoot)) === undefined) throw new UserError(`${projectRoot} is not inside a git repository`);
  await ensureExcluded(projectRoot);
  let trees = await listWorktrees(projectRoot);
  const old = await findWorktree(trees, path.resolve(opts.oldTree));
  if (old !== undefined) {
    await retire(projectRoot, old, base, branch, notes);
    notes.push(`removed the worktree ${old.path} inside the project: each step now gets a worktree of its own outside it`);
    trees = await listWorktrees(projectRoot);
  }
  const holder = trees.find((tree) => tree.branch === branch)?.path;
  if (holder !== undefined) {
    throw new UserError(`branch ${branch} is checked out in ${holder}, so ws can't run the workstream on it`, {
      fix: `switch that checkout to another branch (e.g. \`git switch -\`; merge the work first with \`git merge ${branch}\` if you want it), then run again`,
    });
  }
  const tip = await branchTip(projectRoot, branch);
  if (opts.resume && tip !== undefined) return { tip, notes };
  // Already at the base (the last run of a clean checkout that committed nothing): no commit to
  // keep, nothing to move.
  if (tip === base) return { tip: base, notes };
  await backupIfNeeded(projectRoot, opts, tip, notes);
  await git(projectRoot, ["branch", "--force", "--no-track", branch, base]);
  return { tip: base, notes };
}

/** Commits of `tip` that a re-run cannot make again: not in `base`, and without ws's trailer for
 *  this workstream (a commit made by hand in the tree, or leftovers saved by saveLeftovers). */
export async function foreignCommits(cwd: string, base: string, tip: string, wsId: string): Promise<string[]> {
  const log = await git(cwd, ["log", "--no-show-signature", "-z", "--format=%H%n%B", `${base}..${tip}`]);
  const mine = trailerLine(wsId);
  return splitNul(log.stdout)
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => !record.split("\n").slice(1).some((line) => line.trim() === mine))
    .map((record) => record.split("\n")[0] ?? "");
}

/** Keeps the old branch as `<branch>-<date>` when it holds foreign commits; prunes old backups. */
async function backupIfNeeded(projectRoot: string, opts: RunBranchOptions, tip: string | undefined, notes: string[]): Promise<void> {
  if (tip === undefined) return;
  const foreign = await foreignCommits(projectRoot, opts.base, tip, opts.wsId);
  if (foreign.length === 0) return;
  const kept = await newBackupName(projectRoot, opts.branch, new Date());
  await git(projectRoot, ["branch", kept, tip]);
  notes.push(`${opts.branch} had ${foreign.length} commit(s) that a re-run would not make again (made by hand, or uncommitted changes left in the worktree) and that are not in this run's base; kept them on ${kept} (merge with \`git merge ${kept}\`)`);
  const backups = await listBackups(projectRoot, opts.branch);
  for (const old of backups.slice(0, Math.max(0, backups.length - MAX_BACKUPS))) {
    await git(projectRoot, ["branch", "-D", "--quiet", old]);
    notes.push(`deleted the oldest backup branch ${old} (ws keeps the newest ${MAX_BACKUPS})`);
  }
}

/** Uncommitted work left in a tree becomes a commit on its branch, so a reset can't lose it. */
async function saveLeftovers(treePath: string, notes: string[]): Promise<void> {
  const dirty = changedBetween(new Map(), await snapshot(treePath));
  if (dirty.length === 0) return;
  await commitFiles({ cwd: treePath, files: dirty, message: "ws: uncommitted changes left in the worktree by an earlier run" });
  notes.push(`committed ${dirty.length} uncommitted file(s) left in ${treePath} before reusing it`);
}

/** Saves an old tree's uncommitted work as a commit, then unregisters and deletes the tree. */
async function retire(projectRoot: string, tree: RegisteredWorktree, base: string, branch: string, notes: string[]): Promise<void> {
  if (await isDirectory(tree.path)) {
    await saveLeftovers(tree.path, notes);
    const treeHead = await gitText(tree.path, ["rev-parse", "HEAD"]);
    if (tree.branch === undefined && !(await isAncestor(projectRoot, treeHead, base))) {
      const kept = await newBackupName(projectRoot, branch, new Date());
      await git(projectRoot, ["branch", kept, treeHead]);
      notes.push(`the old worktree had a detached HEAD with work not in HEAD; kept it on ${kept}`);
    }
  }
  await git(projectRoot, ["worktree", "remove", "--force", "--force", tree.path]);
}

async function listWorktrees(projectRoot: string): Promise<RegisteredWorktree[]> {
  const alone = onlyCheckout(projectRoot);
  if (alone !== undefined) return [alone];
  const text = await gitText(projectRoot, ["worktree", "list", "--porcelain"]);
  return text
    .split(/\n\n+/)
    .filter(Boolean)
    .map((block) => {
      const lines = block.split("\n");
      const value = (key: string) => lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);
      return { path: value("worktree") ?? "", head: value("HEAD"), branch: value("branch")?.replace(/^refs\/heads\//, "") };
    });
}

/**
 * The repository's one worktree, read from its files, when it has no linked worktree (no
 * `worktrees/` folder in the git dir: `git worktree list` would list the checkout alone). Each
 * fresh run asks this; anything unusual (GIT_DIR, reftable, a linked worktree) is asked of git.
 */
function onlyCheckout(projectRoot: string): RegisteredWorktree | undefined {
  const dirs = gitDirsOf(projectRoot);
  if (dirs === undefined || dirs.gitDir !== dirs.commonDir || fs.existsSync(path.join(dirs.commonDir, "worktrees"))) return undefined;
  const head = fs.readFileSync(path.join(dirs.gitDir, "HEAD"), "utf8").trim();
  const branch = /^ref: refs\/heads\/(\S+)$/.exec(head)?.[1];
  return { path: dirs.top, head: readHead(dirs), branch };
}

/** A branch's commit, read from the ref files when they have it, else asked of git. */
async function branchTip(projectRoot: string, branch: string): Promise<string | undefined> {
  const dirs = gitDirsOf(projectRoot);
  return (dirs && readRef(dirs, `refs/heads/${branch}`)) ?? branchCommit(projectRoot, branch);
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function canonical(p: string): Promise<string> {
  return realpath(p).catch(() => path.resolve(p));
}

async function findWorktree(trees: RegisteredWorktree[], treePath: string): Promise<RegisteredWorktree | undefined> {
  const wanted = await canonical(treePath);
  for (const tree of trees) {
    if ((await canonical(tree.path)) === wanted) return tree;
  }
  return undefined;
}

