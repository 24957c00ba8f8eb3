import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { findOnPath } from "../tools/binary.js";
import { containLaunch, type Containment } from "./containment.js";
import { spawnServer, type Launched, type NotStarted } from "./spawn-server.js";

interface LaunchOptions {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string> | undefined;
  /** The environment to start from; default process.env. */
  inherit?: Readonly<Record<string, string>> | undefined;
  stdinFile?: string | undefined;
  /** Cookie, withheld variables, sandbox: applied to argv and env before either spawn path. */
  contain?: Containment | undefined;
  /** A file to create, with its folder, before the child starts (the attempt's log, made by the python server off ws's main thread). */
  createFile?: string | undefined;
}

type LaunchResult = Launched | { error: string };

/**
 * Starts a child in its own process group through a spawn server (python's posix_spawn, else
 * perl's fork), or with Node's spawn where none can run or with `WS_SPAWN=direct`. Both paths get the same final argv
 * and environment and report a missing or non-executable binary with the same message.
 */
export async function launch(given: LaunchOptions): Promise<LaunchResult> {
  const inherited = plainEnv(given.inherit ?? process.env, given.env);
  const nul = nulByteIn(given, inherited);
  if (nul !== undefined) return { error: `cannot start ${given.command}: ${nul}` };
  const { command, args, env } = containLaunch({ command: given.command, args: given.args, env: inherited }, given.contain);
  const options = { ...given, command, args };
  // A server that died under this job gives it back (undefined): the next kind takes it, or Node.
  for (let server = spawnServer(); server; server = spawnServer()) {
    const program = resolveProgram(options.command, options.cwd, env);
    if (typeof program !== "string") return program;
    const launched = await server.launch({ ...options, env }, program);
    if (launched && "errno" in launched) return { error: notStartedMessage(options, launched) };
    if (launched) return launched;
  }
  return launchDirect(options, env);
}

/** Why the python server started nothing, in the words launchDirect uses for the same errors. */
function notStartedMessage(options: LaunchOptions, failed: NotStarted): string {
  const code = util.getSystemErrorName(-failed.errno);
  if (code === "ENOENT" && options.stdinFile !== undefined && !fs.existsSync(options.stdinFile)) {
    return `cannot open the input ${options.stdinFile}: ${failed.message}`;
  }
  return spawnErrorMessage(options.command, Object.assign(new Error(failed.message), { code }));
}

/**
 * Environments merged left to right into a plain object, unset names left out. A plain object is
 * cheap to copy; process.env calls into C++ for every variable (~80 µs a copy at 35 variables).
 */
export function plainEnv(...layers: Array<Readonly<Record<string, string | undefined>> | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  // Keys and a read each, not Object.entries: a pair array per variable was ~40 arrays of garbage an attempt.
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const name of Object.keys(layer)) {
      const value = layer[name];
      if (value !== undefined) env[name] = value;
    }
  }
  return env;
}

/**
 * A NUL byte ends a C string, so no argument, environment entry or path can carry one (a task text
 * or a step output with `\u0000` in it). Node's spawn refuses one with a TypeError; the spawn
 * server would never see the end of its record (bash drops the byte and reads on into the next),
 * and the attempt would hang. Checked before either path, so both give this same spawn error.
 */
function nulByteIn(given: LaunchOptions, merged: Record<string, string>): string | undefined {
  const has = (text: string) => text.includes("\0");
  if (has(given.command)) return "the command holds a NUL byte, which no command line can carry";
  const arg = given.args.findIndex(has);
  if (arg >= 0) return `argument ${arg + 1} holds a NUL byte, which no command line can carry`;
  // A clean inherited environment leaves the step's own variables to look at; else the merged one
  // is read as before (a step's variable may replace an inherited one that holds the byte).
  const clean = given.inherit !== undefined && (cleanInherited.has(given.inherit) || (nulVariable(given.inherit) === undefined && cleanInherited.add(given.inherit) !== undefined));
  const nulIn = clean ? nulVariable(given.env) : nulVariable(merged);
  if (nulIn !== undefined) return `the environment variable ${JSON.stringify(nulIn)} holds a NUL byte, which no environment can carry`;
  if (has(given.cwd) || (given.stdinFile !== undefined && has(given.stdinFile))) return "a path holds a NUL byte";
  return undefined;
}

/**
 * The run's copy of the environment (`inherit`, read-only, the same object for every attempt)
 * once found free of NUL bytes: not read again for each attempt.
 */
const cleanInherited = new WeakSet<object>();

/** The first variable whose name or value holds a NUL byte (unset ones carry nothing). */
function nulVariable(env: Readonly<Record<string, string | undefined>> | undefined): string | undefined {
  if (env === undefined) return undefined;
  for (const name of Object.keys(env)) {
    const value = env[name];
    if (value !== undefined && (name.includes("\0") || value.includes("\0"))) return name;
  }
  return undefined;
}

/** What execvp would run, or the spawn error it would give. */
function resolveProgram(command: string, cwd: string, env: Record<string, string>): string | { error: string } {
  if (!command.includes("/")) return findOnPath(command, env) ?? { error: `command not found: ${command}` };
  const file = path.resolve(cwd, command);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return { error: `command not found: ${command}` };
  }
  try {
    if (!stat.isFile()) throw new Error("not a file");
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return { error: `permission denied: ${command}` };
  }
  return file;
}

async function launchDirect(options: LaunchOptions, env: Record<string, string>): Promise<LaunchResult> {
  const { command, args, cwd } = options;
  // The server meant to make it died under this job: the child may write beside it ($WS_OUTPUT).
  if (options.createFile !== undefined) fs.mkdirSync(path.dirname(options.createFile), { recursive: true });
  let stdin: "ignore" | number = "ignore";
  if (options.stdinFile !== undefined) {
    try {
      stdin = fs.openSync(options.stdinFile, "r");
    } catch (error) {
      return { error: `cannot open the input ${options.stdinFile}: ${(error as Error).message}` };
    }
  }
  let child;
  try {
    child = spawn(command, args, { cwd, env, detached: true, stdio: [stdin, "pipe", "pipe"] });
  } catch (error) {
    // Synchronous failures are bad arguments (e.g. a NUL byte in an argument).
    return { error: `cannot start ${command}: ${(error as Error).message}` };
  } finally {
    if (typeof stdin === "number") fs.closeSync(stdin);
  }
  const pid = child.pid;
  if (pid === undefined) {
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once("error", resolve));
    return { error: spawnErrorMessage(command, error) };
  }
  child.on("error", () => {
    // Only emitted for failed kill()/send(), which we never call; a listener keeps it from throwing.
  });
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (code, sig) => resolve([code, sig])));
  return { pid, stdout: child.stdout!, stderr: child.stderr!, exit, release: () => {} };
}

function spawnErrorMessage(command: string, error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return `command not found: ${command}`;
  if (error.code === "EACCES") return `permission denied: ${command}`;
  return `cannot start ${command}: ${error.message}`;
}
