import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findOnPath } from "../tools/binary.js";
import { startedSpawnServer, type Launched } from "../proc/spawn-server.js";
import { launchGitsWith, type RawRun, type ServedLimits } from "./run-git.js";

/**
 * One of ws's own short gits started by the run's spawn server (issue 32): Node's spawn forks ws
 * and holds its thread until git has exec'd (~6 ms at load), and on the hop between steps that
 * is the time a dependent's start waits. The server (python's posix_spawn, or perl) starts it in
 * a process group of its own, as `detached` does; its stdout and stderr come back on FIFOs, its
 * input (if any) from a file written beforehand. Asked to outlive ws (`G`): a kill -9 of ws
 * leaves it to finish, as a direct spawn's git would, not killed mid-write with a lock left in
 * the user's .git or a lane's. Undefined when no server runs yet (a command
 * that starts no step: no server is started for its gits) or the server died: the caller spawns.
 */
async function runServedGit(
  cwd: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  input: string | Buffer | undefined,
  limits: ServedLimits,
): Promise<RawRun | undefined> {
  const server = startedSpawnServer();
  if (server === undefined) return undefined;
  const whole = plain(env);
  const program = gitProgram(whole);
  if (program === undefined) return undefined;
  const stdinFile = input !== undefined && input.length > 0 ? inputFile(input) : undefined;
  const started = Date.now();
  try {
    const launched = await server.launch({ command: "git", args: argv, cwd, env: whole, stdinFile, outlive: true }, program);
    if (launched === undefined) return undefined;
    if ("errno" in launched) return spawnFailure(launched.message, started);
    return await collect(launched, limits, started);
  } finally {
    if (stdinFile !== undefined) fs.rmSync(stdinFile, { force: true });
  }
}

/** Both streams read to their end and the exit reaped, with the timeout and cap of a direct git. */
function collect(job: Launched, limits: ServedLimits, started: number): Promise<RawRun> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(job.pid, signal);
      } catch {
        // Already reaped.
      }
    };
    const forget = limits.track(kill);
    const timer = setTimeout(() => {
      timedOut = true;
      kill("SIGTERM");
      killer = setTimeout(() => kill("SIGKILL"), limits.killAfterMs);
    }, limits.timeoutMs);
    // The server's read buffers are views reused by later jobs: copied before kept.
    job.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limits.maxBuffer) out.push(Buffer.from(chunk));
      else kill("SIGKILL");
    });
    job.stderr.on("data", (chunk: Buffer) => err.push(Buffer.from(chunk)));
    const ended = (stream: NodeJS.ReadableStream) => new Promise<boolean>((done) => {
      stream.once("end", () => done(true));
      stream.once("error", () => done(false));
      stream.once("close", () => done(false)); // after "end" when clean: that answer stands
    });
    void Promise.all([job.exit, ended(job.stdout), ended(job.stderr)]).then(([[code, signal], outClean, errClean]) => {
      clearTimeout(timer);
      clearTimeout(killer);
      forget();
      job.release(outClean && errClean);
      const stdout = Buffer.concat(out);
      resolve({ code, signal, stdout, stderr: Buffer.concat(err).toString("utf8"), timedOut, durationMs: Date.now() - started });
    });
  });
}

function spawnFailure(message: string, started: number): RawRun {
  return { code: null, signal: null, stdout: Buffer.alloc(0), stderr: "", timedOut: false, durationMs: Date.now() - started, spawnError: message };
}

/** The git a direct spawn would run, looked up once per PATH. */
let known: { pathVar: string | undefined; program: string | undefined } | undefined;
function gitProgram(env: Record<string, string>): string | undefined {
  if (known === undefined || known.pathVar !== env.PATH) known = { pathVar: env.PATH, program: findOnPath("git", env) };
  return known.program;
}

function plain(env: NodeJS.ProcessEnv): Record<string, string> {
  const whole: Record<string, string> = {};
  for (const name in env) {
    const value = env[name];
    if (value !== undefined) whole[name] = value;
  }
  return whole;
}

/** git's stdin as a private file, removed when git has ended. */
let inputs = 0;
function inputFile(input: string | Buffer): string {
  const file = path.join(os.tmpdir(), `ws-git-input-${process.pid}-${inputs++}`);
  fs.writeFileSync(file, input, { flag: "wx", mode: 0o600 });
  return file;
}

/** From here on, ws's gits go through the run's spawn server once it runs (a run calls this). */
export function serveGits(): void {
  launchGitsWith(runServedGit);
}
