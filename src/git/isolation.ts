import path from "node:path";
import { UserError } from "../errors.js";
import type { WsPaths } from "../store/paths.js";
import type { Workstream } from "../workstream/model.js";
import { gitRoot } from "./repo.js";

export interface GitMode {
  /** Revert and keep as a patch what an attempt changed outside its file_scope. */
  scopeCheck: boolean;
  /** Commit a passed step's files (worktree isolation). */
  commit: boolean;
}

export interface Workplace {
  /** Where the steps run: the worktree (at the same relative folder as cwd), or cwd itself. */
  workdir: string;
  branch?: string | undefined;
  git: GitMode;
  /** What the run header should tell the user (a reused worktree, a fallback). */
  notes: string[];
}

/**
 * Where a run's steps run: a worktree on the run's branch inside a git repository (with a
 * commit), in place elsewhere; the workstream's explicit `isolation` wins.
 */
export async function chooseWorkplace(ws: Workstream, cwd: string, paths: WsPaths, resume: boolean): Promise<Workplace> {
  const root = await gitRoot(cwd);
  const isolation = ws.execution.isolation ?? (root ? "worktree" : "none");
  if (isolation === "none" || !root) {
    if (ws.execution.isolation === "worktree") {
      throw new UserError(`${ws.id} asks for isolation "worktree", but ${cwd} is not inside a git repository`, {
        fix: `run "git init" and commit, or set execution.isolation to "none"`,
      });
    }
    if (root) {
      const { ensureExcluded } = await import("./worktree.js");
      await ensureExcluded(root);
    }
    return { workdir: cwd, git: { scopeCheck: Boolean(root), commit: false }, notes: [] };
  }
  const { prepareWorktree } = await import("./worktree.js");
  try {
    const tree = await prepareWorktree({ projectRoot: root, wsId: ws.id, treePath: paths.tree, resume });
    // Steps see the same relative layout as in the checkout, even when cwd is a subfolder of the repo.
    const workdir = path.join(tree.path, path.relative(root, cwd));
    return { workdir, branch: tree.branch, git: { scopeCheck: true, commit: true }, notes: tree.notes };
  } catch (error) {
    if (error instanceof UserError && ws.execution.isolation === undefined) {
      return { workdir: cwd, git: { scopeCheck: false, commit: false }, notes: [`${error.message}; running in place (isolation "none")`] };
    }
    throw error;
  }
}
