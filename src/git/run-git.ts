import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { clearStaleIndexLock, indexLockError } from "./index-lock.js";

interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

interface GitOptions {
  /** Bytes for git's stdin (e.g. `--stdin -z` lists). */
  input?: string | Buffer;
  /** Extra environment, e.g. GIT_INDEX_FILE for a scratch index. */
  env?: Record<string, string>;
  /** Return non-zero exits instead of throwing (for questions like "is this a repo?"). */
  allowFailure?: boolean;
  /** Milliseconds before git is killed (TERM, then KILL); default GIT_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** Variables that would point git at another repository, index or work tree than `cwd`'s
 *  (set when ws itself runs from a git hook); scratch-index calls pass GIT_INDEX_FILE explicitly. */
const REDIRECTING_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX"];

/**
 * Settings that stop git from executing programs named in configuration. A step can write the
 * shared config or hooks/ (the repo guard puts them back after each attempt, see repo-guard.ts),
 * and the user's global config is within its reach too, so ws's own git never trusts them:
 * hooks (post-checkout on `worktree add`/`checkout`, pre-auto-gc) and fsmonitor (run by every
 * status/diff/add) are off, no automatic gc/maintenance (it would spawn in the background and
 * outlive the command), and no ssh or credential helper (ws never talks to a remote). Not
 * settable to "off" here, so handled where used: an external diff or textconv (every `git diff`
 * of ws passes `--no-ext-diff --no-textconv`; an empty `diff.external` would be run as a command),
 * the pager (never started: git's output is a pipe), and filter drivers (ws hashes with
 * `--no-filters`, and the repo guard restores the config before ws's next git command).
 */
const SAFE_CONFIG: readonly string[] = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "core.sshCommand=false",
  "credential.helper=",
  "core.quotepath=off",
];

const SAFE_ARGS = SAFE_CONFIG.flatMap((setting) => ["-c", setting]);

/**
 * The one place every git command of ws is built (issue 31): the safe settings first, then the
 * command. Filters, merge drivers and aliases cannot be switched off by `-c` in general (each is
 * named by the config that defines it), so they are handled by ownership instead: in a lane ws
 * owns the git dir and rewrites its config before its own git runs there (lane-git-dir.ts); in
 * the user's repository the config is the user's own. Exported for the checks that guard it.
 */
export function gitArgv(args: readonly string[]): string[] {
  return [...SAFE_ARGS, ...args];
}

/** Long enough for `worktree add` of a big repository on a slow disk; a hung git must still end. */
const GIT_TIMEOUT_MS = 10 * 60_000;
/** `cat-file blob` of a large file restored by the scope check goes through memory. */
const MAX_BUFFER = 1024 * 1024 * 1024;

function gitEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REDIRECTING_ENV) delete env[name];
  // Never wait for a password prompt; file names are data, never pathspec globs.
  return { ...env, GIT_TERMINAL_PROMPT: "0", GIT_LITERAL_PATHSPECS: "1", LC_ALL: "C", ...extra };
}

export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    readonly args: readonly string[],
    readonly cwd: string,
    readonly result: GitResult & { timedOut?: boolean; durationMs?: number },
  ) {
    const why = result.timedOut ? `timed out after ${Math.round((result.durationMs ?? 0) / 1000)} s` : `exited with ${result.code}`;
    super(`git ${args.join(" ")} (in ${cwd}) ${why}: ${result.stderr.trim()}`);
  }
}

/** Gits running now (their kill), ended (TERM) if ws exits while one runs, as execa's cleanup did. */
const running = new Set<(signal: NodeJS.Signals) => void>();
let exitHook = false;

/** Counts a running git among those ws ends at exit; the returned function forgets it. */
function trackGit(kill: (signal: NodeJS.Signals) => void): () => void {
  running.add(kill);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const live of running) live("SIGTERM");
    });
  }
  return () => running.delete(kill);
}

/** How long a git asked to stop (timeout) has before it is killed. */
const KILL_AFTER_MS = 2000;

export interface RawRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  /** Set when git could not be started at all (not installed, cwd gone). */
  spawnError?: string | undefined;
}

/** What starts a git other than Node's spawn; undefined from it: Node's spawn after all. */
export type GitLauncher = (cwd: string, argv: string[], env: NodeJS.ProcessEnv, input: string | Buffer | undefined, limits: ServedLimits) => Promise<RawRun | undefined>;

/** What run-git.ts decides for every git: its timeout, kill delay, output cap and exit registry. */
export interface ServedLimits {
  timeoutMs: number;
  killAfterMs: number;
  maxBuffer: number;
  track: (kill: (signal: NodeJS.Signals) => void) => () => void;
}

/** Set by a run (served-git.ts): a command that starts no step loads no spawn server for its gits. */
let launcher: GitLauncher | undefined;
export function launchGitsWith(next: GitLauncher | undefined): void {
  launcher = next;
}

/** One git process: through the run's spawn server when one runs (no fork of ws's thread, which
 *  held it ~6 ms a git at load on the hop, issue 32), else by Node's own spawn. */
async function runGit(cwd: string, args: readonly string[], options: GitOptions): Promise<RawRun> {
  const env = gitEnv(options.env);
  const limits = { timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS, killAfterMs: KILL_AFTER_MS, maxBuffer: MAX_BUFFER, track: trackGit };
  const served = launcher === undefined ? undefined : await launcher(cwd, gitArgv(args), env, options.input, limits);
  return served ?? runGitDirect(cwd, args, env, options);
}

/**
 * One git process, by Node's own spawn: execa cost 1-2 ms more of ws's own CPU a call (measured
 * with 40 `git rev-parse` in a row: 2.4-3.0 ms against 1.0-1.4 ms), and a run of the deploy demo
 * makes a hundred calls on the thread that also schedules its steps (issue 32).
 */
function runGitDirect(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv, options: GitOptions): Promise<RawRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let done = false;
    let killer: NodeJS.Timeout | undefined;
    // A process group of its own: Ctrl-C in the terminal reaches the whole foreground group, and a
    // git killed mid-write leaves index.lock behind and fails the look or commit it was making.
    // ws stops its steps on Ctrl-C; its own short git commands finish.
    const child = spawn("git", gitArgv(args), { cwd, env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let forget: () => void = () => undefined;
    const finish = (run: Omit<RawRun, "stdout" | "stderr" | "timedOut" | "durationMs">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(killer);
      forget();
      resolve({ ...run, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8"), timedOut, durationMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
    }, options.timeoutMs ?? GIT_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BUFFER) out.push(chunk);
      else child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => {
      if (child.pid === undefined) finish({ code: null, signal: null, spawnError: error.message });
    });
    child.on("close", (code, signal) => finish({ code, signal }));
    if (child.pid === undefined) return;
    forget = trackGit((signal) => child.kill(signal));
    // git may exit before reading all of its input (an error): the broken pipe is its answer, not ws's.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Runs git with an argv array (never a shell) with a timeout and kill, stdout kept as bytes for
 *  `-z` output and blobs. A non-zero exit throws GitError unless `allowFailure`: every call site
 *  expects success, so a failure is a bug or a broken repository, not a user outcome. Git that
 *  cannot start (not installed, cwd gone) always throws. */
export async function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const run = await runGit(cwd, args, options);
  const result = { code: run.code ?? 128, stdout: run.stdout, stderr: run.stderr, timedOut: run.timedOut, durationMs: run.durationMs };
  // No exit code and no signal: git never ran (ENOENT for git or cwd); not a question's answer.
  if (run.spawnError !== undefined) throw new GitError(args, cwd, { ...result, stderr: run.spawnError || "git could not start" });
  if ((result.code !== 0 || run.timedOut) && !options.allowFailure) throw new GitError(args, cwd, result);
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** The same invocation, synchronously, for the few questions a command asks before anything
 *  async (ws export's "is this file tracked?"). Exit code only; undefined when git cannot start. */
export function gitStatusSync(cwd: string, args: readonly string[]): number | undefined {
  const run = spawnSync("git", gitArgv(args), { cwd, env: gitEnv(undefined), stdio: "ignore", timeout: GIT_TIMEOUT_MS });
  return run.error ? undefined : (run.status ?? 128);
}

/** A long-lived git that answers on stdout what it is fed on stdin (`hash-object --stdin-paths`),
 *  built like every other git of ws; its stdin closing (ws ending, however) ends it. `onEnd`: it
 *  failed to start, exited or stopped reading. It keeps ws alive only while asked (keepAlive). */
export function gitServer(cwd: string, args: readonly string[], env: Record<string, string> | undefined, onEnd: () => void): ChildProcessWithoutNullStreams {
  // A process group of its own, like git(): Ctrl-C is ws's to handle, and ws closes its stdin.
  const child = spawn("git", gitArgv(args), { cwd, env: gitEnv(env), stdio: ["pipe", "pipe", "pipe"], detached: true });
  const pid = child.pid;
  if (pid !== undefined) {
    SERVERS.add(pid);
    child.once("exit", () => SERVERS.delete(pid));
  }
  child.on("error", onEnd);
  child.on("exit", onEnd);
  child.stdin.on("error", onEnd);
  child.stderr.resume();
  keepAlive(child, false);
  return child;
}

/**
 * Whether a long-lived git keeps ws alive: while a question is out it must (its answer is
 * awaited), between questions it must not: its stdin closes when ws exits, and it ends.
 */
export function keepAlive(child: ChildProcessWithoutNullStreams, on: boolean): void {
  type Handle = { ref?: () => void; unref?: () => void };
  if (on) {
    child.ref();
    (child.stdout as unknown as Handle).ref?.();
    return;
  }
  child.unref();
  for (const stream of [child.stdout, child.stdin, child.stderr]) (stream as unknown as Handle).unref?.();
}

/** The long-lived gits of this ws (they never take index.lock: index-lock.ts does not count them
 *  among the processes that may hold one). */
export const SERVERS = new Set<number>();

/** `git diff` of two tree-ish as a patch `git apply` takes back (binary files, full index lines),
 *  with explicit options so user config (noprefix, colour, external diff, renames) can't change the format. */
export async function binaryDiff(cwd: string, from: string, to: string): Promise<Buffer> {
  const args = ["diff", "--binary", "--full-index", "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv"];
  args.push("--no-relative", "--src-prefix=a/", "--dst-prefix=b/", from, to);
  return (await git(cwd, args)).stdout;
}

/** stdout as trimmed text, for one-line answers (shas, paths, branch names). */
export async function gitText(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  return (await git(cwd, args, options)).stdout.toString("utf8").trim();
}

/** Splits `-z` output into its fields (dropping the trailing empty one). */
export function splitNul(buffer: Buffer): string[] {
  const fields = buffer.toString("utf8").split("\0");
  if (fields.at(-1) === "") fields.pop();
  return fields;
}

const LOCK_RETRIES = 40;

/** Runs a git command that writes the index, retrying while another git process in the same tree
 *  (an agent's own `git status`, say) briefly holds index.lock. A lock that no process holds any
 *  more (left by a kill -9) is removed instead of waited for, see index-lock.ts. */
export async function gitWithIndexLock(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await git(cwd, args, { ...options, allowFailure: true });
    if (result.code === 0 || options.allowFailure) return result;
    if (!result.stderr.includes("index.lock")) throw new GitError(args, cwd, result);
    // Only the first failure asks: a lock still there after that is held by a live process.
    if (attempt === 1 && (await clearStaleIndexLock(cwd)) === "removed") continue;
    if (attempt >= LOCK_RETRIES) throw await indexLockError(cwd);
    await new Promise((resolve) => setTimeout(resolve, 50 * Math.min(attempt, 10)));
  }
}
