import { spawn } from "node:child_process";

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitOptions {
  /** Bytes for git's stdin (e.g. `--stdin -z` lists). */
  input?: string | Buffer;
  /** Extra environment, e.g. GIT_INDEX_FILE for a scratch index. */
  env?: Record<string, string>;
  /** Return non-zero exits instead of throwing (for questions like "is this a repo?"). */
  allowFailure?: boolean;
}

/** Variables that would point git at another repository, index or work tree than `cwd`'s
 *  (set when ws itself runs from a git hook); scratch-index calls pass GIT_INDEX_FILE explicitly. */
const REDIRECTING_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX"];

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
    readonly result: GitResult,
  ) {
    super(`git ${args.join(" ")} (in ${cwd}) exited with ${result.code}: ${result.stderr.trim()}`);
  }
}

/** Runs git with an argv array (never a shell), stdout kept as bytes for `-z` output and blobs.
 *  A non-zero exit throws GitError unless `allowFailure`: every call site expects success, so a
 *  failure is a bug or a broken repository, not a user outcome. */
export function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const argv = ["-c", "core.quotepath=off", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn("git", argv, { cwd, env: gitEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    // git may exit before reading all of stdin (e.g. on a bad argument); that is reported by its
    // exit code, not by an EPIPE crash.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
    child.on("close", (code, signal) => {
      const result: GitResult = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") };
      if (result.code !== 0 && !options.allowFailure) reject(new GitError(args, cwd, result));
      else resolve(result);
    });
  });
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
 *  (an agent's own `git status`, say) briefly holds index.lock. */
export async function gitWithIndexLock(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await git(cwd, args, { ...options, allowFailure: true });
    if (result.code === 0 || options.allowFailure) return result;
    if (attempt >= LOCK_RETRIES || !result.stderr.includes("index.lock")) throw new GitError(args, cwd, result);
    await new Promise((resolve) => setTimeout(resolve, 50 * Math.min(attempt, 10)));
  }
}
