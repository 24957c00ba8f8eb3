import { lstat } from "node:fs/promises";
import path from "node:path";
import { pointsOutside } from "./links.js";
import { branchCommit, headCommit, repoTop } from "./repo.js";
import { git, gitText, gitWithIndexLock } from "./run-git.js";
import { scratchTree } from "./scratch-index.js";
import { serialized } from "./tree-queue.js";

export const FALLBACK_AUTHOR = { name: "ws", email: "ws@localhost" };


/** Commit exactly `files` (relative to `cwd`; adds new ones, records deletions) with `message` on
 *  the current branch of `cwd`; author from git config (fallback "ws <ws@localhost>" only if none
 *  is configured, so commits never fail on a fresh CI machine). Returns the commit sha, or
 *  undefined when there was nothing to commit. Serialized in-process. Other staged or unstaged
 *  changes in the tree are neither committed nor disturbed; no hooks run. */
export function commitFiles(opts: CommitOptions): Promise<string | undefined> {
  return serialized(() => commitNow(opts));
}

interface CommitOptions {
  cwd: string;
  files: string[];
  message: string;
  /** Commit on this branch whatever HEAD says (a step may have moved HEAD meanwhile). */
  branch?: string | undefined;
  /** Called with the new commit before the next piece of serialized git work can start. */
  onCommit?: ((sha: string) => void) | undefined;
  /** Extra environment for every git command of the commit (a lane's: write the objects straight
   *  into the user's repository, see Lanes.commit). */
  env?: Record<string, string> | undefined;
  /** Whose git config names the author (default `cwd`): a lane's config is ws's, not the user's. */
  identityFrom?: string | undefined;
}

async function commitNow({ cwd, files, message, branch, onCommit, env: extra, identityFrom }: CommitOptions): Promise<string | undefined> {
  // A nested repository can't be committed as content; everything else (deleted or not) can.
  const committable: string[] = [];
  const top = await repoTop(cwd);
  for (const file of files) {
    const stats = await lstat(path.join(cwd, file)).catch(() => undefined);
    if (stats?.isDirectory()) continue;
    // A symlink out of the tree is never committed (the repo guard reverts those a step makes).
    if (stats?.isSymbolicLink() && (await pointsOutside(path.join(cwd, file), top))) continue;
    committable.push(file);
  }
  if (committable.length === 0) return undefined;
  const ref = branch === undefined ? "HEAD" : `refs/heads/${branch}`;
  const parent = branch === undefined ? await headCommit(cwd) : await branchCommit(cwd, branch);
  const input = committable.map((file) => `${file}\0`).join("");
  const updateArgs = ["update-index", "--add", "--remove", "-z", "--stdin"];

  // Built in a scratch index from the parent, so whatever else is staged in the real index stays out.
  const tree = await scratchTree(cwd, { tree: parent }, (env) => git(cwd, updateArgs, { env: { ...extra, ...env }, input }), extra);
  if (parent !== undefined && tree === (treeOf.get(parent) ?? (await gitText(cwd, ["rev-parse", `${parent}^{tree}`], { env: extra })))) {
    // Already in history (a commit whose index update a kill -9 cut short): the index catches up.
    await gitWithIndexLock(cwd, updateArgs, { input, env: extra });
    return undefined;
  }

  // --no-gpg-sign: a signing prompt would hang an unattended run; the branch is for review anyway.
  const commitArgs = ["commit-tree", tree, "--no-gpg-sign", "-F", "-"];
  if (parent !== undefined) commitArgs.push("-p", parent);
  const sha = await gitText(cwd, commitArgs, { input: message.endsWith("\n") ? message : `${message}\n`, env: { ...extra, ...(await identityEnv(identityFrom ?? cwd)) } });
  const subject = message.split("\n")[0] ?? "";
  // The old value makes the update fail instead of silently dropping a commit made meanwhile.
  await git(cwd, ["update-ref", "-m", `commit: ${subject}`, ref, sha, parent ?? ""], { env: extra });
  onCommit?.(sha);
  // The next step's commit usually sits on this one: its tree is known without asking git.
  treeOf.set(sha, tree);
  // The real index learns the committed files, so `git status` in the tree shows them clean.
  await gitWithIndexLock(cwd, updateArgs, { input, env: extra });
  return sha;
}

const treeOf = new Map<string, string>();

/** user.name and user.email as git config gives them for `cwd` ("" when unset), asked once per folder and run. */
const identities = new Map<string, Promise<{ name: string; email: string }>>();

/**
 * Who authors ws's commits, as variables: what the environment says, else the user's git config
 * for `cwd` (the user's repository: a lane's own config holds none of the repository's settings,
 * so a name set only in the repository's .git/config must be handed over), else ws's fallback.
 */
export async function identityEnv(cwd: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const configured = async (key: string) => (await git(cwd, ["config", "--get", key], { allowFailure: true })).stdout.toString("utf8").trim();
  let identity = identities.get(cwd);
  if (identity === undefined) identities.set(cwd, (identity = (async () => ({ name: await configured("user.name"), email: await configured("user.email") }))()));
  const { name, email } = await identity;
  for (const role of ["AUTHOR", "COMMITTER"]) {
    if (!process.env[`GIT_${role}_NAME`]) env[`GIT_${role}_NAME`] = name || FALLBACK_AUTHOR.name;
    if (!process.env[`GIT_${role}_EMAIL`]) env[`GIT_${role}_EMAIL`] = email || FALLBACK_AUTHOR.email;
  }
  return env;
}

/** The tip of `branch` (HEAD without one) when its subject starts with `subjectPrefix`. */
export async function commitOf(cwd: string, branch: string | undefined, subjectPrefix: string): Promise<string | undefined> {
  const ref = branch === undefined ? "HEAD" : `refs/heads/${branch}`;
  const result = await git(cwd, ["log", "-1", "--format=%H%x00%s", ref, "--"], { allowFailure: true });
  const [sha = "", subject = ""] = result.stdout.toString("utf8").trim().split("\0");
  return result.code === 0 && subject.startsWith(subjectPrefix) ? sha : undefined;
}
