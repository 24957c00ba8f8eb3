import path from "node:path";
import { attemptContainment, type AttemptPlace } from "../proc/attempt-containment.js";
import type { ProcessResult, RunProcessOptions } from "../proc/run-process.js";
import { runRecorded } from "../store/group-registry.js";
import type { WsPaths } from "../store/paths.js";
import type { Step, Workstream } from "../workstream/model.js";

/** The run's facts every process of a step is placed by (the step runner's and the compensations' deps). */
export interface RunPlace {
  workstream: Workstream;
  /** Where the process runs: the step's worktree, or the project root. */
  workdir: string;
  /** The step's worktree (writable in the sandbox); default: none (a run in place). */
  tree?: string | undefined;
  /** Agents' processes run sandboxed even though the workstream does not ask for it (the default where bwrap works). */
  sandboxAgents?: boolean | undefined;
  paths: WsPaths;
  env: NodeJS.ProcessEnv;
  /** process.env copied once for the run: what every step process inherits. */
  inherited: Readonly<Record<string, string>>;
}

/** Whose variables a process may see besides the harmless ones (see secrets.ts). */
export interface Secrets {
  /** The tool's own key variables (none for shell commands and acceptance tests). */
  keyVariables: readonly string[];
  /** The variables set explicitly for this process (the step's env), never withheld. */
  given: Iterable<string>;
  /** An agent CLI's own process: where it keeps its state (sandboxed by default, these stay writable). */
  agentState?: readonly string[] | undefined;
}

/** What the caller decides about a process; what surrounds it (containment, inheritance, the journal) is not its choice. */
export type InvokeOptions = Omit<RunProcessOptions, "onSpawn" | "contain" | "inherit">;

/** Attempt 0 of a step: its compensation, with a cookie of its own so reaping an attempt never reaches it. */
export const COMPENSATION_ATTEMPT = 0;

export function attemptPlace(run: RunPlace, step: Step, attempt: number): AttemptPlace {
  return {
    workstream: run.workstream,
    step,
    attempt,
    env: run.env,
    inherited: run.inherited,
    cwd: run.workdir,
    tree: run.tree ?? run.paths.tree,
    stepDir: run.paths.stepDir(step.id),
    root: path.dirname(path.dirname(run.paths.root)),
    sandboxAgents: run.sandboxAgents,
  };
}

/**
 * Every process a step starts (its tool, its acceptance tests, its compensation) goes through
 * here, so none escapes what contains the others: the secrets it was not given are withheld, it
 * runs in the sandbox when the run is sandboxed, it inherits the run's copy of the environment, and
 * its group and cookie are in the journal a run after a kill -9 of ws reaps.
 */
export function invoke(run: RunPlace, step: Step, attempt: number, options: InvokeOptions, secrets: Secrets): Promise<ProcessResult> {
  const contain = attemptContainment(attemptPlace(run, step, attempt), secrets.keyVariables, secrets.given, secrets.agentState);
  return runRecorded(run.paths.groups, { ...options, contain, inherit: run.inherited });
}
