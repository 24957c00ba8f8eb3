import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";

/** Global flags, resolved once; every command module receives this. */
export interface CliContext {
  /** Project root the command works in (`--cwd`, default process.cwd()). */
  cwd: string;
  /** Where relative paths typed by the user (FILE, -o, --junit) resolve: `--cwd`, else the shell's folder. */
  base: string;
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
  /** True once the reader of stdout went away (`ws run | head`): output stops, the work goes on. */
  stdoutClosed(): boolean;
}

export interface GlobalFlags {
  dir?: string;
  cwd?: string;
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * The project root: the nearest folder, from `start` upwards, holding `workstreams/` or `.git`
 * (as git and npm find theirs), so ws works from any subfolder; `start` itself when none does.
 */
function findProjectRoot(start: string): string {
  for (let dir = start; ; ) {
    if (isDir(path.join(dir, "workstreams")) || fs.existsSync(path.join(dir, ".git"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

function isDir(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch (error) {
    // A folder on the way that this user may not search (EACCES) hides where the project is: say which.
    throw new UserError(`cannot read ${path.dirname(file)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      fix: `give yourself access to it (chmod u+rx ${path.dirname(file)}), or run ws as the folder's owner, or point --cwd at a project you can read`,
    });
  }
}

/** The shell's folder; one that was removed or may not be searched any more is a user's problem, not a crash. */
function currentFolder(): string {
  try {
    return process.cwd();
  } catch (error) {
    throw new UserError(`cannot read the current folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { fix: "cd into a folder that exists and that you can read, or give --cwd" });
  }
}

let stdoutGone = false;

/**
 * A closed stdout (EPIPE: `ws run | head`) must stop the output only. Without a listener Node
 * turns it into an uncaught exception, which killed runs midway and left their state "running".
 */
function guardStdout(): void {
  if (process.stdout.listenerCount("error") > 0) return;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") {
      stdoutGone = true;
      return;
    }
    throw error;
  });
}

export function createContext(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): CliContext {
  guardStdout();
  // With --cwd the shell's folder is not needed (it may be one this user cannot read).
  const given = flags.cwd !== undefined ? path.resolve(flags.cwd) : undefined;
  const here = given ?? currentFolder();
  const cwd = given ?? findProjectRoot(here);
  // A --dir typed on the command line is a path from where the user stands (or from --cwd).
  const dir = flags.dir !== undefined ? path.resolve(flags.cwd !== undefined ? cwd : here, flags.dir) : path.join(cwd, "workstreams");
  const ci = Boolean(env.CI) && env.CI !== "false" && env.CI !== "0";
  const tty = Boolean(process.stdout.isTTY);
  const color = flags.color !== false && env.NO_COLOR === undefined && (tty || env.FORCE_COLOR !== undefined);
  return {
    cwd,
    base: flags.cwd !== undefined ? cwd : here,
    dir,
    color,
    quiet: Boolean(flags.quiet),
    verbose: Boolean(flags.verbose),
    interactive: tty && !ci,
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    stdoutClosed: () => stdoutGone,
  };
}

/** Write a line to stdout. */
export function out(ctx: CliContext, line = ""): void {
  if (!ctx.stdoutClosed()) ctx.stdout.write(line + "\n");
}

/** Write a line to stderr. */
export function err(ctx: CliContext, line = ""): void {
  ctx.stderr.write(line + "\n");
}

/**
 * The width to fit tables to: the terminal's, or $COLUMNS when output is piped (`COLUMNS=80 ws
 * status | less`); undefined (do not fit: a script reads whole lines) for a pipe without it.
 */
export function terminalWidth(ctx: CliContext): number | undefined {
  if (ctx.stdout.isTTY && ctx.stdout.columns) return ctx.stdout.columns;
  const columns = Number(ctx.env.COLUMNS);
  return Number.isInteger(columns) && columns >= 40 ? columns : undefined;
}
