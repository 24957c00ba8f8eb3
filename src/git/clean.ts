import fs from "node:fs";
import path from "node:path";
import { acquireLock, type LockHolder } from "../store/lock.js";
import { wsPaths } from "../store/paths.js";
import { listBackups, runBranch } from "./branch-name.js";
import { lanesHome, pinsOf, removeLanes } from "./lanes.js";
import { branchCommit, gitRoot } from "./repo.js";
import { git, gitText } from "./run-git.js";

/** What `ws clean` would remove for one workstream (nothing is touched while planning). */
export interface CleanPlan {
  wsId: string;
  /** `.worktrees/<id>/`, when it exists. */
  stateDir: string | undefined;
  /** The run's worktree of an older ws (inside the state folder), when git knows it or its folder exists. */
  tree: string | undefined;
  /** The folder of the workstream's per-step worktrees (outside the project), when it exists. */
  lanes: string | undefined;
  /** Where the refs that pin the lanes' bases live (refs/ws-pins/…); undefined outside git. */
  pins?: string | undefined;
  backups: string[];
  /** The run's branch: kept (it holds the work to merge); undefined outside git or when absent. */
  branch: string | undefined;
  gitRoot: string | undefined;
}

export type CleanResult = { kind: "locked"; holder: LockHolder; lockFile: string } | { kind: "cleaned"; plan: CleanPlan };

export async function planClean(projectDir: string, wsId: string): Promise<CleanPlan> {
  const paths = wsPaths(projectDir, wsId);
  const root = await gitRoot(projectDir);
  const stateDir = fs.existsSync(paths.root) ? paths.root : undefined;
  const registered = root !== undefined && (await registeredTree(root, paths.tree));
  const tree = registered || fs.existsSync(paths.tree) ? paths.tree : undefined;
  if (root === undefined) return { wsId, stateDir, tree, lanes: undefined, backups: [], branch: undefined, gitRoot: root };
  const branch = runBranch(root, fs.realpathSync(projectDir), wsId);
  const backups = await listBackups(root, branch);
  const home = lanesHome(root, branch, process.env);
  const lanes = fs.existsSync(home) ? home : undefined;
  return { wsId, stateDir, tree, lanes, pins: pinsOf(branch), backups, branch: (await branchCommit(root, branch)) === undefined ? undefined : branch, gitRoot: root };
}

export function isEmptyPlan(plan: CleanPlan): boolean {
  return plan.stateDir === undefined && plan.tree === undefined && plan.lanes === undefined && plan.backups.length === 0;
}

/**
 * Removes the workstream's worktree, its backup branches and its state folder, holding the run
 * lock throughout so a run can't start (or be running) meanwhile. The run's own branch stays: it
 * is where the work to merge is.
 */
export async function clean(projectDir: string, plan: CleanPlan): Promise<CleanResult> {
  const paths = wsPaths(projectDir, plan.wsId);
  const lock = acquireLock(paths.lock);
  if (!lock.ok) return { kind: "locked", holder: lock.holder, lockFile: paths.lock };
  try {
    if (plan.gitRoot !== undefined && plan.tree !== undefined && (await registeredTree(plan.gitRoot, plan.tree))) {
      await git(plan.gitRoot, ["worktree", "remove", "--force", "--force", plan.tree]);
    }
    if (plan.gitRoot !== undefined && plan.pins !== undefined) await removeLanes(plan.gitRoot, plan.lanes ?? "", plan.pins);
    for (const backup of plan.backups) if (plan.gitRoot !== undefined) await git(plan.gitRoot, ["branch", "-D", "--quiet", backup]);
    // Everything but the lock, which goes last, once nothing else is left to protect.
    for (const entry of fs.readdirSync(paths.root)) {
      if (entry !== path.basename(paths.lock)) fs.rmSync(path.join(paths.root, entry), { recursive: true, force: true });
    }
  } finally {
    lock.release();
  }
  fs.rmSync(paths.root, { recursive: true, force: true });
  return { kind: "cleaned", plan };
}

async function registeredTree(root: string, tree: string): Promise<boolean> {
  const wanted = fs.existsSync(tree) ? fs.realpathSync(tree) : path.resolve(tree);
  const list = await gitText(root, ["worktree", "list", "--porcelain"]);
  return list.split("\n").some((line) => {
    if (!line.startsWith("worktree ")) return false;
    const listed = line.slice("worktree ".length);
    return (fs.existsSync(listed) ? fs.realpathSync(listed) : path.resolve(listed)) === wanted;
  });
}
