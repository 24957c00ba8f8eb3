import { realpath } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import type { WsPaths } from "../store/paths.js";
import type { WorktreeSettings } from "../workstream/model.js";
import { runBranch } from "./branch-name.js";
import { resolveBase, type RunBase } from "./working-tree-base.js";
import { ensureExcluded, prepareWorktree } from "./worktree.js";
import { provisionWorktree } from "./worktree-setup.js";

export interface RunTree {
  /** Where steps run: the worktree, at the project's place inside it. */
  workdir: string;
  branch: string;
  base: RunBase;
  reused: boolean;
  /** What else the run should say: backups kept, what was copied, linked, set up. */
  notes: string[];
}

/**
 * Everything `isolation: worktree` needs before the first step: the base commit (the working tree
 * as it is, or --base REF), the worktree on the run's branch (reused between runs), and what
 * `worktree` brings into it. Throws UserError for what the user must fix.
 */
export async function prepareRunTree(opts: {
  gitRoot: string;
  /** The project folder (where workstreams/ is); may be below the repository's top. */
  projectDir: string;
  wsId: string;
  paths: WsPaths;
  resume: boolean;
  baseRef?: string | undefined;
  settings?: WorktreeSettings | undefined;
  /** The limit for `setup` (execution.timeout_per_step), in ms; 0 = none. */
  setupTimeoutMs?: number | undefined;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
}): Promise<RunTree> {
  const { gitRoot, wsId, paths } = opts;
  // git reports its top folder with symlinks resolved: so must the project be, or the relative
  // path (the branch name, the step's folder in the tree) would climb out through "..".
  const projectDir = await realpath(opts.projectDir).catch(() => opts.projectDir);
  if (opts.resume && opts.baseRef !== undefined) {
    throw new UserError(`--base ${opts.baseRef} can't be combined with --resume: a resumed run goes on from where it stopped`, { fix: "drop --base to resume, or drop --resume to start a fresh run from that base" });
  }
  // Before the base is taken: ws's own state must never be part of it.
  await ensureExcluded(gitRoot);
  const base = await resolveBase(gitRoot, wsId, opts.baseRef);
  const branch = runBranch(gitRoot, projectDir, wsId);
  const tree = await prepareWorktree({ projectRoot: gitRoot, wsId, branch, treePath: paths.tree, resume: opts.resume, base: base.commit });
  const workdir = path.join(tree.path, path.relative(gitRoot, projectDir));
  // The base and the reuse are in the run header; these are the rest (backups, setup...).
  const notes = tree.notes.filter((note) => !note.startsWith("reused the worktree"));
  if (opts.settings) {
    const provisioned = await provisionWorktree({ projectDir, workdir, settings: opts.settings, created: tree.created, stateDir: paths.root, env: opts.env, signal: opts.signal, timeoutMs: opts.setupTimeoutMs });
    notes.push(...provisioned.notes);
  }
  return { workdir, branch, base, reused: tree.reused, notes };
}

/** Running in place: --base can't apply (an error), and the worktree setting has nothing to act on (a warning). */
export function inPlaceProblems(settings: WorktreeSettings | undefined, baseRef: string | undefined, why: string): string[] {
  if (baseRef !== undefined) {
    throw new UserError(`--base ${baseRef} needs a worktree, but this run happens in place (${why})`, {
      fix: 'drop --base: in place the steps see the files as they are (or set execution.isolation to "worktree" in a git repository)',
    });
  }
  const used = settings !== undefined && (settings.copy.length > 0 || settings.link.length > 0 || settings.setup !== undefined);
  return used ? [`the "worktree" setting is ignored: the steps run in place (${why})`] : [];
}
