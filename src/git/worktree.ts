import { appendFile, mkdir, readdir, readFile, realpath, rename, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { STATE_FOLDER } from "../store/paths.js";
import { changedBetween, snapshot } from "./changes.js";
import { commitFiles } from "./commit.js";
import { branchCommit, gitRoot, headCommit } from "./repo.js";
import { git, gitText } from "./run-git.js";

export interface Worktree {
  path: string;
  branch: string;
  created: boolean;
  /** The commit the branch started from (for a reused branch, its merge base with HEAD). */
  base: string;
}

interface RegisteredWorktree {
  path: string;
  head: string | undefined;
  /** Short branch name; undefined when detached. */
  branch: string | undefined;
}

const EXCLUDE_LINE = `${STATE_FOLDER}/`;

/** Adds `.worktrees/` to the repository's info/exclude (once), so ws's state and trees never show
 *  up in the user's `git status`. Also needed with `isolation: none`. */
export async function ensureExcluded(projectRoot: string): Promise<void> {
  const file = path.resolve(projectRoot, await gitText(projectRoot, ["rev-parse", "--git-path", "info/exclude"]));
  const text = await readFile(file, "utf8").catch(() => "");
  const present = text.split(/\r?\n/).some((line) => [EXCLUDE_LINE, STATE_FOLDER].includes(line.trim().replace(/^\//, "")));
  if (present) return;
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${text === "" || text.endsWith("\n") ? "" : "\n"}${EXCLUDE_LINE}\n`);
}

/** Create (or reuse, when it exists and resume is true) the run's worktree on branch ws/<wsId>
 *  from HEAD. Adds `.worktrees/` to .git/info/exclude. On a fresh (non-resume) run where the
 *  branch or worktree already exists: nothing may be lost — uncommitted changes left in the old
 *  tree are committed to its branch first; if ws/<id> has commits not in HEAD, it is renamed to
 *  ws/<id>-<yyyymmdd-hhmmss> (said in `notes`), then the run starts anew from HEAD. Fails with
 *  UserError (exit 2) outside a repository or on one with no commits yet. */
export async function prepareWorktree(opts: {
  projectRoot: string;
  wsId: string;
  treePath: string;
  resume: boolean;
}): Promise<Worktree & { notes: string[] }> {
  const { projectRoot, wsId } = opts;
  const treePath = path.resolve(opts.treePath);
  const branch = `ws/${wsId}`;
  const notes: string[] = [];
  if ((await gitRoot(projectRoot)) === undefined) throw new UserError(`${projectRoot} is not inside a git repository`);
  const head = await headCommit(projectRoot);
  if (head === undefined) {
    throw new UserError(`the git repository at ${projectRoot} has no commits yet, so there is nothing to start the worktree from`, {
      fix: 'make a first commit, or set "isolation": "none" under "execution"',
    });
  }
  await ensureExcluded(projectRoot);

  let ours = await findWorktree(projectRoot, treePath);
  if (ours !== undefined && !(await isDirectory(treePath))) {
    // Registered but deleted by hand: forget the registration; the branch still holds the work.
    await git(projectRoot, ["worktree", "remove", "--force", "--force", treePath]);
    ours = undefined;
  }
  if (opts.resume) {
    if (ours?.branch === branch) {
      return { path: treePath, branch, created: false, base: await mergeBase(projectRoot, head, branch), notes };
    }
    if (ours === undefined && (await branchCommit(projectRoot, branch)) !== undefined && (await checkedOutAt(projectRoot, branch)) === undefined) {
      await moveAsideIfOccupied(treePath, notes);
      await git(projectRoot, ["worktree", "add", "--quiet", treePath, branch]);
      notes.push(`recreated the worktree ${treePath} from the existing branch ${branch}`);
      return { path: treePath, branch, created: true, base: await mergeBase(projectRoot, head, branch), notes };
    }
  }

  if (ours !== undefined) await retire(projectRoot, ours, head, wsId, notes);
  const tip = await branchCommit(projectRoot, branch);
  if (tip !== undefined) {
    const holder = await checkedOutAt(projectRoot, branch);
    if (holder !== undefined) {
      throw new UserError(`branch ${branch} is checked out in ${holder}, so a new run can't take it over`, {
        fix: `switch that checkout to another branch (merge the work first with \`git merge ${branch}\` if you want it), then run again`,
      });
    }
    const ahead = Number(await gitText(projectRoot, ["rev-list", "--count", `${head}..${tip}`]));
    if (ahead > 0) {
      const kept = await freeBranchName(projectRoot, branch);
      await git(projectRoot, ["branch", "-m", branch, kept]);
      notes.push(`${branch} had ${ahead} commit(s) not in HEAD; kept them on ${kept} (merge with \`git merge ${kept}\`)`);
    } else {
      await git(projectRoot, ["branch", "-D", branch]);
    }
  }
  await moveAsideIfOccupied(treePath, notes);
  await mkdir(path.dirname(treePath), { recursive: true });
  await git(projectRoot, ["worktree", "add", "--quiet", "-b", branch, treePath, head]);
  return { path: treePath, branch, created: true, base: head, notes };
}

/** Saves an old tree's uncommitted work as a commit, then unregisters and deletes the tree. */
async function retire(projectRoot: string, tree: RegisteredWorktree, head: string, wsId: string, notes: string[]): Promise<void> {
  if (await isDirectory(tree.path)) {
    const dirty = changedBetween(new Map(), await snapshot(tree.path));
    if (dirty.length > 0) {
      await commitFiles({ cwd: tree.path, files: dirty, message: "ws: uncommitted changes left in the worktree by an earlier run" });
      notes.push(`committed ${dirty.length} uncommitted file(s) left in ${tree.path} before replacing it`);
    }
    const treeHead = await gitText(tree.path, ["rev-parse", "HEAD"]);
    if (tree.branch === undefined && !(await isAncestor(projectRoot, treeHead, head))) {
      const kept = await freeBranchName(projectRoot, `ws/${wsId}`);
      await git(projectRoot, ["branch", kept, treeHead]);
      notes.push(`the old worktree had a detached HEAD with work not in HEAD; kept it on ${kept}`);
    }
  }
  await git(projectRoot, ["worktree", "remove", "--force", "--force", tree.path]);
}

async function listWorktrees(projectRoot: string): Promise<RegisteredWorktree[]> {
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

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function canonical(p: string): Promise<string> {
  return realpath(p).catch(() => path.resolve(p));
}

async function findWorktree(projectRoot: string, treePath: string): Promise<RegisteredWorktree | undefined> {
  const wanted = await canonical(treePath);
  for (const tree of await listWorktrees(projectRoot)) {
    if ((await canonical(tree.path)) === wanted) return tree;
  }
  return undefined;
}

async function checkedOutAt(projectRoot: string, branch: string): Promise<string | undefined> {
  return (await listWorktrees(projectRoot)).find((tree) => tree.branch === branch)?.path;
}

async function mergeBase(cwd: string, head: string, branch: string): Promise<string> {
  const result = await git(cwd, ["merge-base", head, `refs/heads/${branch}`], { allowFailure: true });
  return result.code === 0 ? result.stdout.toString("utf8").trim() : head;
}

async function isAncestor(cwd: string, commit: string, of: string): Promise<boolean> {
  return (await git(cwd, ["merge-base", "--is-ancestor", commit, of], { allowFailure: true })).code === 0;
}

function timestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}

/** `<branch>-<yyyymmdd-hhmmss>`, with a counter when two runs start within the same second. */
async function freeBranchName(cwd: string, branch: string): Promise<string> {
  const base = `${branch}-${timestamp(new Date())}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if ((await branchCommit(cwd, name)) === undefined) return name;
  }
}

/** A leftover directory where the tree goes (not a registered worktree) is kept, not deleted. */
async function moveAsideIfOccupied(treePath: string, notes: string[]): Promise<void> {
  const entries = await readdir(treePath).catch(() => undefined);
  if (entries === undefined || entries.length === 0) return;
  const aside = `${treePath}-${timestamp(new Date())}`;
  await rename(treePath, aside);
  notes.push(`moved the leftover directory ${treePath} (not a git worktree) to ${aside}`);
}
