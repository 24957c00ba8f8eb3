import type { RunEvent } from "../events/run-event.js";
import { UserError } from "../errors.js";
import type { WsPaths } from "../store/paths.js";
import type { Workstream } from "../workstream/model.js";
import { gitDirsOf, readHead } from "./read-refs.js";
import { gitRoot, headCommit } from "./repo.js";
import type { Lanes, SetupStart } from "./lanes.js";
import type { OutsideWatch } from "./outside-watch.js";
import type { RepoGuard } from "./repo-guard.js";
import type { RunBranch } from "./run-branch.js";

type RunStartEvent = Extract<RunEvent, { type: "run-start" }>;

export interface GitMode {
  /** Revert and keep as a patch what an attempt changed outside its file_scope. */
  scopeCheck: boolean;
  /** Commit a passed step's files (worktree isolation). */
  commit: boolean;
  /** In place: checks, after each attempt, what a step must not touch besides files outside its
   *  scope (the shared git dir, refs); absent outside git and in worktree runs. */
  guard?: RepoGuard | undefined;
  /** Worktree runs: a worktree per step, the run's branch, and what is watched outside them. */
  lanes?: { pool: Lanes; branch: RunBranch; watch: OutsideWatch } | undefined;
}

export interface Workplace {
  /** Where the steps run: the folder of the per-step worktrees, or cwd itself. */
  workdir: string;
  branch?: string | undefined;
  git: GitMode;
  /** What the run header should tell the user (backups kept, setup, a fallback). */
  notes: string[];
  /** What a worktree run starts from (for run-start; undefined in place and on resume). */
  base?: RunStartEvent["base"];
  /** The last run's worktree was reused. */
  reused?: boolean | undefined;
  /** The commit the steps build on (worktree runs): recorded, so a resume knows it. */
  runBase?: string | undefined;
}

/** How a worktree run starts (the rest of RunOptions is not isolation's business). */
interface WorkplaceOptions {
  resume: boolean;
  /** With resume: the base of the run being resumed, and whether to start on the working tree instead (--rebase). */
  previousBase?: string | undefined;
  rebase?: boolean | undefined;
  /** `--base REF`; default: the working tree as it is. */
  baseRef?: string | undefined;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  /** How many lanes the run's first steps take at once (see prepareRunTree). */
  lanesAtOnce?: number | undefined;
  /** Told as a lane's `worktree.setup` starts (the first one runs before the run does). */
  onSetupStart?: ((setup: SetupStart) => void) | undefined;
}

/**
 * Where a run's steps run: a worktree on the run's branch inside a git repository (with a
 * commit), in place elsewhere; the workstream's explicit `isolation` wins. Only an empty
 * repository falls back to running in place; anything else (the branch checked out in the user's
 * checkout, a bad --base) is a UserError for the user to fix.
 */
export async function chooseWorkplace(ws: Workstream, cwd: string, paths: WsPaths, opts: WorkplaceOptions): Promise<Workplace> {
  const root = await gitRoot(cwd);
  const isolation = ws.execution.isolation ?? (root ? "worktree" : "none");
  if (isolation === "none" || !root) {
    // A sandbox is a worktree run under bwrap: it needs the repository just the same.
    if (ws.execution.isolation === "worktree" || ws.execution.isolation === "sandbox") {
      throw new UserError(`${ws.id} asks for isolation "${ws.execution.isolation}", but ${cwd} is not inside a git repository`, {
        fix: `run "git init" and commit, or set execution.isolation to "none"`,
      });
    }
    const { inPlaceProblems } = await import("./run-tree.js");
    const notes = inPlaceProblems(ws.worktree, opts.baseRef, root ? 'isolation is "none"' : `${cwd} is not in a git repository`);
    if (root) {
      const { ensureExcluded, STATE_HINT } = await import("./worktree.js");
      if (await ensureExcluded(root)) notes.push(STATE_HINT);
    }
    const { RepoGuard, inPlaceNote } = await import("./repo-guard.js");
    const guard = root ? await RepoGuard.open({ workdir: cwd }) : undefined;
    return { workdir: cwd, git: { scopeCheck: Boolean(root), commit: false, guard }, notes: [...notes, inPlaceNote(Boolean(root))] };
  }
  const { openLanes, prepareRunTree } = await import("./run-tree.js");
  const { NoCommitsError } = await import("./working-tree-base.js");
  // Before the base is taken: whatever changes in the checkout from then on is news.
  const { OutsideWatch } = await import("./outside-watch.js");
  const { ensureExcluded, STATE_HINT } = await import("./worktree.js");
  // ws's own state folder is hidden first: the watch and the base must never see it.
  // HEAD beside the first looks: the base is HEAD itself when the checkout is clean.
  const dirs = gitDirsOf(root);
  const read = dirs && readHead(dirs);
  const head = read !== undefined ? Promise.resolve(read) : headCommit(root);
  head.catch(() => undefined);
  const lanesOf = { gitRoot: root, projectDir: cwd, wsId: ws.id, paths, settings: ws.worktree, setupTimeoutMs: ws.execution.timeoutPerStep * 1000, env: opts.env, signal: opts.signal, onSetupStart: opts.onSetupStart };
  // The lanes' own git work (a look at each, the checkout's object folder and ignores) beside the looks at the checkout.
  const opened = openLanes(lanesOf);
  opened.catch(() => undefined);
  const firstRun = await ensureExcluded(root);
  const watch = await OutsideWatch.open(root);
  try {
    const tree = await prepareRunTree({ ...lanesOf, resume: opts.resume, previousBase: opts.previousBase, rebase: opts.rebase, baseRef: opts.baseRef, known: { clean: watch.checkoutClean, head }, opened, lanesAtOnce: opts.lanesAtOnce });
    const base = tree.base && { source: tree.base.source, commit: tree.base.commit, uncommitted: tree.base.uncommitted.length, sample: tree.base.uncommitted.slice(0, 5) };
    const git = { scopeCheck: true, commit: true, lanes: { pool: tree.lanes, branch: tree.branch, watch } };
    return { workdir: tree.lanes.home, branch: tree.branch.name, git, notes: [...(firstRun ? [STATE_HINT] : []), ...tree.notes], base, reused: tree.reused, runBase: tree.branch.base };
  } catch (error) {
    if (error instanceof NoCommitsError && ws.execution.isolation === undefined) {
      return { workdir: cwd, git: { scopeCheck: false, commit: false }, notes: [`${error.message}; running in place (isolation "none")`] };
    }
    throw error;
  }
}
