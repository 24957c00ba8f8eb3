import { realpath } from "node:fs/promises";
import { UserError } from "../errors.js";
import type { WsPaths } from "../store/paths.js";
import type { WorktreeSettings } from "../workstream/model.js";
import { runBranch } from "./branch-name.js";
import { Lanes, lanesHome, pinsOf, type SetupStart } from "./lanes.js";
import { RunBranch } from "./run-branch.js";
import { git, splitNul } from "./run-git.js";
import { resolveBase, type KnownCheckout, type RunBase } from "./working-tree-base.js";
import { ensureExcluded, prepareRunBranch } from "./worktree.js";

export interface RunTree {
  branch: RunBranch;
  lanes: Lanes;
  /** What a fresh run (or a rebased resume) starts from; undefined on a plain resume. */
  base: RunBase | undefined;
  /** The first worktree existed already (made by an earlier run). */
  reused: boolean;
  /** What else the run should say: backups kept, what was copied, linked, set up, a stale resume. */
  notes: string[];
}

/**
 * Everything a worktree run needs before the first step: the base commit (the working tree as it
 * is, or --base REF; on resume the run's own base), the run's branch, and the pool of per-step
 * worktrees outside the project, the first of them made and provisioned (`worktree` settings,
 * setup), so a failing setup stops the run before any step. Throws UserError for what the user must fix.
 */
export async function prepareRunTree(opts: {
  gitRoot: string;
  /** The project folder (where workstreams/ is); may be below the repository's top. */
  projectDir: string;
  wsId: string;
  paths: WsPaths;
  resume: boolean;
  /** With resume: the base commit of the run being resumed (older runs did not record it). */
  previousBase?: string | undefined;
  /** With resume: start the unfinished steps on the working tree as it is now. */
  rebase?: boolean | undefined;
  baseRef?: string | undefined;
  settings?: WorktreeSettings | undefined;
  /** The limit for `setup` (execution.timeout_per_step), in ms; 0 = none. */
  setupTimeoutMs?: number | undefined;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  /** What the run saw of the checkout before this (see resolveBase). */
  known?: KnownCheckout | undefined;
  /** The run's lanes, opened (openLanes) while the run looked at the checkout. */
  opened?: Promise<OpenedLanes> | undefined;
  /** The lanes the first steps will take at once: when the first lane runs its setup, the others
   *  are made meanwhile and get its files once it is done (lanes.ahead), all before the first step. */
  lanesAtOnce?: number | undefined;
  onSetupStart?: ((setup: SetupStart) => void) | undefined;
}): Promise<RunTree> {
  const { gitRoot, wsId, paths } = opts;
  if (opts.resume && opts.baseRef !== undefined) {
    throw new UserError(`--base ${opts.baseRef} can't be combined with --resume: a resumed run goes on from where it stopped`, { fix: "drop --base to resume, or drop --resume to start a fresh run from that base" });
  }
  const { lanes, name } = await (opts.opened ?? openLanes(opts));
  // Before the base is taken: ws's own state must never be part of it.
  await ensureExcluded(gitRoot);
  const current = await resolveBase(gitRoot, wsId, opts.baseRef, opts.known);
  const prepared = await prepareRunBranch({ projectRoot: gitRoot, wsId, branch: name, resume: opts.resume, base: current.commit, oldTree: paths.tree });
  const notes = [...prepared.notes];
  let base = opts.resume ? (opts.previousBase ?? prepared.tip) : current.commit;
  let tip = prepared.tip;
  let started: RunBase | undefined = opts.resume ? undefined : current;
  if (opts.resume) {
    const changed = await changedFiles(gitRoot, base, current.commit);
    if (changed.length > 0 && opts.rebase) {
      base = current.commit;
      started = current;
      notes.push(`--rebase: the unfinished steps start from the working tree as it is now (${describe(changed)} changed since the run's base)`);
    } else if (changed.length > 0) {
      notes.push(`your working tree changed since this run started (${describe(changed)}); the unfinished steps resume on the run's old base. \`ws run --resume --rebase\` resumes them on the working tree as it is now; a run without --resume starts afresh`);
    } else if (opts.rebase) {
      notes.push("--rebase: the working tree is as the run found it; nothing to rebase onto");
    }
  }
  const branch = new RunBranch(gitRoot, name, base, tip, wsId);
  branch.warm();
  if (base !== opts.previousBase && opts.resume && opts.rebase) {
    const joined = await branch.integrate("the working tree", base);
    if ("conflict" in joined) {
      throw new UserError(`--rebase: the working tree conflicts with work already on ${name} (${joined.conflict.files.join(", ")}, from ${joined.conflict.steps.join(", ")})`, { fix: "resume without --rebase, or run afresh without --resume" });
    }
    tip = branch.head;
  }
  const wave = opts.lanesAtOnce ?? 1;
  let ahead: Promise<void> | undefined;
  const onSetup = wave > 1 ? () => (ahead = lanes.ahead(base, wave - 1)) : undefined;
  let first;
  try {
    first = await lanes.acquire(base, { onSetup });
  } finally {
    await ahead;
  }
  await lanes.giveBackUntouched(first);
  lanes.warm();
  notes.push(...lanes.notes.splice(0));
  return { branch, lanes, base: started, reused: !first.created, notes };
}

export interface OpenedLanes {
  lanes: Lanes;
  /** The run's branch. */
  name: string;
}

/**
 * The run's pool of lanes, and what it asks of git that depends on nothing else: the checkout's
 * object folder, the environments it ignores, and a look at each lane an earlier run left (one
 * found clean at the base is taken with no checkout). Started before the run looks at the
 * checkout and takes its base, so these git processes run beside those, not after them.
 */
export async function openLanes(opts: { gitRoot: string; projectDir: string; wsId: string; paths: WsPaths; settings?: WorktreeSettings | undefined; setupTimeoutMs?: number | undefined; env: NodeJS.ProcessEnv; signal?: AbortSignal | undefined; onSetupStart?: ((setup: SetupStart) => void) | undefined }): Promise<OpenedLanes> {
  const { gitRoot, paths } = opts;
  // git reports its top folder with symlinks resolved: so must the project be, or the relative
  // path (the branch name, the step's folder in the tree) would climb out through "..".
  const projectDir = await realpath(opts.projectDir).catch(() => opts.projectDir);
  const name = runBranch(gitRoot, projectDir, opts.wsId);
  const lanes = new Lanes({ gitRoot, pins: pinsOf(name), projectDir, home: lanesHome(gitRoot, name, opts.env), stateDir: paths.root, settings: opts.settings, setupTimeoutMs: opts.setupTimeoutMs, env: opts.env, signal: opts.signal, onSetupStart: opts.onSetupStart });
  lanes.prefetch();
  lanes.warm();
  return { lanes, name };
}

async function changedFiles(gitRoot: string, from: string, to: string): Promise<string[]> {
  if (from === to) return [];
  return splitNul((await git(gitRoot, ["diff-tree", "-r", "-z", "--no-renames", "--name-only", from, to])).stdout);
}

function describe(files: string[]): string {
  const shown = files.slice(0, 3).join(", ");
  return files.length > 3 ? `${files.length} files: ${shown}, …` : shown;
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
