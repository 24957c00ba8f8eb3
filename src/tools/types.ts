import type { Step, Workstream } from "../workstream/model.js";
import type { Usage } from "../events/run-event.js";

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
}

export type ToolVerdict =
  | { kind: "ok"; usage?: Usage }
  /** The tool failed (API error, crash, is_error...). */
  | { kind: "error"; message: string; usage?: Usage }
  /** Rate limit / quota: don't spend a retry. */
  | { kind: "quota"; message: string; usage?: Usage };

export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  outcome: "exited" | "timeout" | "cancelled" | "spawn_error";
}

export interface ResultParser {
  /** Called for every output line, streaming. */
  onLine(line: string, stream: "stdout" | "stderr"): void;
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
  /** Builds argv/env; may write the prompt file into ctx.stepDir. */
  prepare(ctx: ToolContext): Promise<ToolInvocation>;
  parser(ctx: ToolContext): ResultParser;
}
