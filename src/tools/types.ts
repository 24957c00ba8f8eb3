import type { Step, Workstream } from "../workstream/model.js";
import type { Usage } from "../events/run-event.js";
import type { Activity } from "./activity.js";

/** Everything an adapter needs to build one attempt of one step. */
export interface ToolContext {
  workstream: Workstream;
  step: Step;
  /** Where the step runs (worktree or project root); tools get it as cwd. */
  cwd: string;
  /** 1-based. */
  attempt: number;
  /** Failing acceptance output of the previous attempt (already capped), for the retry prompt. */
  feedback?: string | undefined;
  /** steps/<id>/ under the state folder: put prompt files, chat histories etc. here, never in cwd. */
  stepDir: string;
  /** The environment the run sees (for WS_<TOOL>_BIN and PATH). */
  env: NodeJS.ProcessEnv;
  /** The engine's clock (reset times are resolved against it); Date.now when absent. */
  now?: (() => number) | undefined;
}

/**
 * What to spawn. Always an argv array, never a shell line (except the `shell` tool, whose command
 * line is the user's own). `env` holds only the variables to set on top of the run's environment
 * (the tool's own settings, the step's `env`, and NO_COLOR/TERM for agents).
 */
export interface ToolInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
  /**
   * A file whose bytes become the tool's stdin (then EOF). Prompts go here or in a file named in
   * argv, never in argv itself: Linux caps one argument at 128 KiB (MAX_ARG_STRLEN), and a longer
   * prompt fails with `spawn E2BIG` before the tool starts.
   */
  stdinFile?: string | undefined;
}

export type ToolVerdict =
  | { kind: "ok"; usage?: Usage }
  /** The tool failed (API error, crash, is_error...). */
  | { kind: "error"; message: string; usage?: Usage }
  /**
   * Rate limit / quota: don't spend a retry. `resetAt` (epoch ms) when the tool said when the
   * limit resets (Retry-After, "try again at 3:05 PM", Claude's `usage limit reached|<epoch>`).
   */
  | { kind: "quota"; message: string; usage?: Usage; resetAt?: number | undefined }
  /** Credentials missing or rejected: retrying cannot help, nor can any other step of this tool. */
  | { kind: "auth"; message: string; fix: string; usage?: Usage }
  /**
   * The API could not be reached (connection refused, DNS, offline). `host`: the API host the
   * tool was pointed at (its base URL setting, else its default), for the message that says
   * what to check; the CLIs' own lines rarely name it.
   */
  | { kind: "network"; message: string; host?: string | undefined; usage?: Usage }
  /** The tool stopped itself at a limit ws gave it (turns, cost): the step's budget is spent. */
  | { kind: "budget"; message: string; usage?: Usage };

export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  /** `stopped`: the parser asked for it (onLine returned "stop"). */
  outcome: "exited" | "timeout" | "cancelled" | "spawn_error" | "stopped";
  /** The last lines it printed, when the caller kept them (a shell step's parser sees no lines). */
  tail?: readonly string[] | undefined;
}

export interface ResultParser {
  /**
   * Called for every output line, streaming. Returning "stop" ends the attempt now (process
   * group killed): the tool is looping on an error it will not get past (codex reconnecting to a
   * dead network, a 401 retried five times); `finish` then reports why.
   */
  onLine(line: string, stream: "stdout" | "stderr"): void | "stop";
  /**
   * What the attempt has used so far (streamed), so ws can stop a step over its budget: the
   * CLI's figures, else ws's estimate from the stream; `costUsd` the CLI's, else from the
   * price table by model (prices.ts).
   */
  usageSoFar?(): Usage | undefined;
  /**
   * What the lines since the last call showed the agent doing (files edited or read, commands,
   * other tools, messages), oldest first; undefined when nothing. Called after every line; the
   * engine rate-limits what it emits.
   */
  takeActivity?(): Activity[] | undefined;
  /** Exit code alone is not trusted. */
  finish(exit: ProcessExit): ToolVerdict;
}

export interface ToolAdapter {
  name: string;
  /**
   * The key variables this tool needs from ws's environment (`NAME`, or `PREFIX_*` / `*_SUFFIX`).
   * Every other secret-looking variable is withheld from its process (src/proc/secrets.ts).
   */
  keyVariables?: readonly string[];
  /**
   * Where the CLI keeps its own state (config, sessions, logs), absolute: writable in the sandbox
   * agent steps run in by default, which makes everything else outside the step's worktree read-only.
   */
  stateDirs?(env: NodeJS.ProcessEnv): string[];
  /**
   * Before the run starts: a reason this step cannot run with this tool as configured (no model
   * and no key, so the tool would wait for an interactive sign-in), with the fix. Undefined: fine.
   */
  preflight?(step: Step, ws: Workstream, env: NodeJS.ProcessEnv): { message: string; fix: string } | undefined;
  /** Builds argv/env; may write the prompt file into ctx.stepDir. */
  prepare(ctx: ToolContext): Promise<ToolInvocation>;
  parser(ctx: ToolContext): ResultParser;
}
