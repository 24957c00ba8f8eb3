import path from "node:path";

/** The on-disk layout of design §3, in one place. */
export interface WsPaths {
  /** `.worktrees/<id>/` under the project root. */
  root: string;
  log: string;
  events: string;
  state: string;
  history: string;
  lock: string;
  /** The journal of process groups of running attempts: what a kill -9 of ws would orphan. */
  groups: string;
  /** The git worktree (isolation: worktree). */
  tree: string;
  /** Decisions on approval gates made by `ws approve` / `ws reject`, one file per step. */
  approvals: string;
  steps: string;
  stepDir(stepId: string): string;
  /** `artifacts/<step>/`: the files a passed step's `artifacts` globs matched. */
  artifactsDir(stepId: string): string;
  attemptLog(stepId: string, attempt: number): string;
  testLog(stepId: string, attempt: number, test: number): string;
}

export const STATE_FOLDER = ".worktrees";

export function wsPaths(projectRoot: string, wsId: string): WsPaths {
  const root = path.join(projectRoot, STATE_FOLDER, wsId);
  const steps = path.join(root, "steps");
  // Asked for several times an attempt (its log, outputs, progress, tail, the sandbox): path.join's
  // normalization each time was ~0.1 ms of a no-op step's main thread (bench/NOTES.md, issue 32).
  const dirs = new Map<string, string>();
  const stepDir = (stepId: string) => {
    let dir = dirs.get(stepId);
    if (dir === undefined) {
      // The steps running now are what is asked about; a status of 50 000 steps keeps no map of them.
      if (dirs.size >= 256) dirs.clear();
      dirs.set(stepId, (dir = path.join(steps, stepId)));
    }
    return dir;
  };
  return {
    root,
    log: path.join(root, "orchestrator.log"),
    events: path.join(root, "events.jsonl"),
    state: path.join(root, "state.json"),
    history: path.join(root, "history.json"),
    lock: path.join(root, "lock"),
    groups: path.join(root, "groups.log"),
    tree: path.join(root, "tree"),
    approvals: path.join(root, "approvals"),
    steps,
    stepDir,
    artifactsDir: (stepId) => path.join(root, "artifacts", stepId),
    attemptLog: (stepId, attempt) => path.join(stepDir(stepId), `attempt-${attempt}.log`),
    testLog: (stepId, attempt, test) => path.join(stepDir(stepId), `attempt-${attempt}.test-${test}.log`),
  };
}
