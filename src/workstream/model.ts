/**
 * The normalized workstream model: what the loader produces after parsing, schema validation,
 * interpolation and defaults. Field names are camelCase here; the file format (snake_case) is
 * described by schemas/workstream.schema.json and design §1.
 */

export type OnFailure = "continue" | "stop" | "abort";
export type FileConflictPolicy = "error" | "serialize";
export type Isolation = "worktree" | "sandbox" | "none";

export interface SandboxConfig {
  /** false: the sandbox gets a network namespace of its own (loopback only). */
  network: boolean;
  /** Absolute folders the steps may write besides the worktree. */
  writable: string[];
}
/**
 * Like GitHub's `if: success()` / `failure()` / `always()`; `success_or_skipped` is the join after
 * an either/or (GitHub's `if: ${{ !failure() && !cancelled() }}` with at least one need passed):
 * none of the dependencies failed and at least one passed, the others skipped.
 */
export type RunIf = "success" | "failure" | "always" | "success_or_skipped";

/** Tools ws knows without a `tools` entry. */
export const BUILTIN_TOOLS = ["aider", "claude", "codex", "gemini", "shell"] as const;
export type BuiltinTool = (typeof BUILTIN_TOOLS)[number];

export interface AcceptanceTest {
  run: string;
  /** Seconds; undefined means the step's timeout. */
  timeout?: number | undefined;
}

export interface CustomTool {
  command: string;
  /** Placeholders: {prompt} {prompt_file} {files} {read_only} {model} {cwd}. */
  args: string[];
  env: Record<string, string>;
}

export interface Execution {
  parallel: boolean;
  /** Resolved: "auto" became the number of available CPUs; `parallel: false` became 1. */
  maxWorkers: number;
  /** max_workers "auto" (or the deprecated adaptive_scaling): fewer workers while the load average is over the cores. */
  adaptive?: boolean | undefined;
  /** Seconds; 0 means no timeout. */
  timeoutPerStep: number;
  /** Seconds between two step starts. */
  rateLimitDelay: number;
  onFailure: OnFailure;
  /** on_failure: compensations run when a run fails or is aborted; never: only `ws run --rollback` runs them. */
  compensation: "on_failure" | "never";
  fileConflicts: FileConflictPolicy;
  /** undefined: decided at run time (worktree inside a git repository, none elsewhere). */
  isolation: Isolation | undefined;
  sandbox: SandboxConfig;
}

export interface CircuitBreakerConfig {
  failureThreshold: number;
  /** Seconds. */
  cooldown: number;
  /** Seconds: the longest the run waits for a tool parked by a quota (its reset time, or the cooldown). */
  maxWait: number;
  /**
   * Seconds a tool that could not reach its API is parked before one probe step; 0: it is
   * unusable for the rest of the run at once (a dead network is not a flaky call).
   */
  networkWait: number;
  /** Whose failures a breaker counts: each tool's across the run's steps, or each step's own attempts. */
  per: "tool" | "step";
}

/** Spending limits; absent fields are unlimited. */
export interface Budget {
  maxCostUsd?: number | undefined;
  maxTokens?: number | undefined;
  maxTurns?: number | undefined;
}

export interface Step {
  id: string;
  /** Position in the file's `steps` array (file order breaks scheduling ties). */
  index: number;
  description: string;
  /** Resolved: the first of `tools`. */
  tool: string;
  /** step.tool as a list (fallbacks after the first), else [defaults.tool ?? "shell"]. */
  tools: string[];
  /** The step's own limits (all its attempts together). */
  budget: Budget;
  tasks: string[];
  /** The command line of a `shell` step. */
  run: string | undefined;
  fileScope: string[];
  /** False when the file had no `file_scope`. */
  hasFileScope: boolean;
  /** True only for an agent step without `file_scope`: it may change anything (validate warns:
   *  its conflicts can't be checked). Every other step is bounded by `fileScope`, and a shell step
   *  without one claims no files (design §1): a check that rewrites code fails, it is not committed. */
  mayChangeAnything: boolean;
  readOnly: string[];
  /** Globs (from the step's working directory) of files copied to .worktrees/<id>/artifacts/<step>/ once it passes. */
  artifacts: string[];
  /** As written: step ids or step_group ids. */
  dependsOn: string[];
  /** Seconds for one attempt; 0 = none. Resolved from step.timeout ?? defaults ?? execution.timeout_per_step. */
  timeout: number;
  /** Extra attempts after a failed one. */
  retries: number;
  /** Seconds before the first retry (0: at once); the worker is free meanwhile. */
  retryDelay: number;
  /** Each further retry waits this factor longer (1: the same delay every time). */
  retryBackoff: number;
  /** Seconds no retry waits longer than; undefined: no cap. */
  retryDelayMax: number | undefined;
  /** Share of the run's overall progress against an average step (1); undefined: from history. */
  weight?: number | undefined;
  acceptanceTests: AcceptanceTest[];
  /**
   * The `when` condition as written and its interpolated value; undefined = always run. With
   * `${steps.<id>.outputs.<key>}` in it, `deferred` holds the text left to resolve when the step
   * is about to start (`value` is true until then).
   */
  when: { source: string; value: boolean; deferred?: string | undefined } | undefined;
  env: Record<string, string>;
  /** Secret-looking variables passed on from ws's environment: the workstream's inherit_env, then the step's. */
  inheritEnv: string[];
  model: string | undefined;
  /** success: all dependencies passed; failure: one failed (none: any step of the run); always: they all ended;
   *  success_or_skipped: none failed and at least one passed. */
  runIf: RunIf;
  /** What undoes this step once it passed, run when the run fails (execution.compensation) or on `ws run --rollback`. */
  compensate: Compensation | undefined;
  /** A gate before the step's first attempt: someone approves or rejects it. */
  approval: Approval | undefined;
}

export interface Approval {
  prompt: string;
  /** Seconds to wait for a decision before rejecting; 0 = none. */
  timeout: number;
  /** The GitHub environment of the step's exported job (its reviewers approve there). */
  environment: string;
  /** hold: a rejection stops the step and its dependents without failing the run (nothing is
   *  compensated; a resume asks again); fail: the step fails with reason `rejected`. */
  onReject: "hold" | "fail";
}

export interface Compensation {
  /** "shell" for a command; else an agent tool given `tasks`. */
  tool: string;
  run: string | undefined;
  tasks: string[];
  /** Seconds; 0 = none. Default: the step's timeout. */
  timeout: number;
}

/** `worktree`: what git ignores but a run needs, brought into the run's worktree. */
export interface WorktreeSettings {
  /** Project-relative paths copied afresh before every run (e.g. `.env`). */
  copy: string[];
  /** Project-relative paths symlinked into the worktree (e.g. `node_modules`). */
  link: string[];
  /** Run once per worktree (through /bin/sh, in the worktree). */
  setup: string | undefined;
}

/** A GitHub Actions step as the workstream wrote it (`run` or `uses`, with its options). */
export type CiStep = Record<string, unknown>;

/** `ci`: what `ws export github` adds to every job beyond the toolchain it detects. */
export interface CiSettings {
  /** After the toolchain's setup, before the step; a command string is one `run` step. */
  setup: CiStep[];
}

export interface StepGroup {
  id: string;
  steps: string[];
  execute: "parallel" | "sequential";
  maxWorkers: number | undefined;
  /** all: every member must pass; any: one passing member passes the group (its dependents go on). */
  succeed: "all" | "any";
  /** With any: a race; the first member to pass wins, the others are stopped (`lost_race`). */
  cancelRest: boolean;
  /** Seconds for the whole group from its first start; undefined = none. */
  timeout: number | undefined;
}

export interface Workstream {
  id: string;
  name: string;
  description: string;
  /** Absolute path of the file it was loaded from. */
  file: string;
  /** sha256 (hex) of the file's bytes: `--resume` refuses a changed file without `--force`. */
  hash: string;
  execution: Execution;
  defaults: { tool: string; model: string | undefined; retries: number; retryDelay: number; retryBackoff: number; retryDelayMax: number | undefined };
  circuitBreaker: CircuitBreakerConfig;
  /** Always set by the loader; absent only in workstreams built by hand (tests). */
  worktree?: WorktreeSettings | undefined;
  /** Always set by the loader; absent only in workstreams built by hand (tests). */
  ci?: CiSettings | undefined;
  /** The whole run's limits: once spent, no further agent step starts. */
  budget: Budget;
  tools: Record<string, CustomTool>;
  steps: Step[];
  stepGroups: StepGroup[];
}

export const DEFAULTS = {
  maxWorkers: 3,
  /** A hung agent must not hold a worker forever; 30 minutes is far above any sane step. */
  timeoutPerStep: 1800,
  rateLimitDelay: 0,
  onFailure: "continue" as OnFailure,
  fileConflicts: "error" as FileConflictPolicy,
  tool: "shell",
  retries: 0,
  retryDelay: 0,
  retryBackoff: 1,
  failureThreshold: 3,
  cooldown: 60,
  maxWait: 1800,
  networkWait: 0,
} as const;
