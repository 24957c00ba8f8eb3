import path from "node:path";

/** Global flags, resolved once; every command module receives this. */
export interface CliContext {
  /** Project root the command works in (`--cwd`, default process.cwd()). */
  cwd: string;
  /** Absolute folder holding workstream files (`--dir`, default `<cwd>/workstreams`). */
  dir: string;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
  /** True when stdout is a terminal and CI is not set: spinners and live lines allowed. */
  interactive: boolean;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface GlobalFlags {
  dir?: string;
  cwd?: string;
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function createContext(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): CliContext {
  const cwd = path.resolve(flags.cwd ?? process.cwd());
  const dir = path.resolve(cwd, flags.dir ?? "workstreams");
  const ci = Boolean(env.CI) && env.CI !== "false" && env.CI !== "0";
  const tty = Boolean(process.stdout.isTTY);
  const color = flags.color !== false && env.NO_COLOR === undefined && (tty || env.FORCE_COLOR !== undefined);
  return {
    cwd,
    dir,
    color,
    quiet: Boolean(flags.quiet),
    verbose: Boolean(flags.verbose),
    interactive: tty && !ci,
    stdout: process.stdout,
    stderr: process.stderr,
    env,
  };
}

/** Write a line to stdout. */
export function out(ctx: CliContext, line = ""): void {
  ctx.stdout.write(line + "\n");
}

/** Write a line to stderr. */
export function err(ctx: CliContext, line = ""): void {
  ctx.stderr.write(line + "\n");
}
