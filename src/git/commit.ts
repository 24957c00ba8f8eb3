import { lstat, rename, rm } from "node:fs/promises";
import path from "node:path";
import { makeCommit } from "./object-writer.js";
import { knownHistory } from "./known-history.js";
import { pointsOutside } from "./links.js";
import { branchCommit, headCommit, repoTop } from "./repo.js";
import { git, gitWithIndexLock } from "./run-git.js";
import { copyIndex, scratchTree } from "./scratch-index.js";
import { stagedTree } from "./staged-tree.js";
import { serialized } from "./tree-queue.js";
import { writeRefFile } from "./ref-file.js";

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
  /** A lane, whose git dir is ws's own: what HEAD is known to be, its top folder, an index file
   *  that holds exactly HEAD's tree (copied when the lane was checked out), and where its HEAD and
   *  index live, written as files (under git's lock names) instead of by `update-ref` and
   *  `update-index`: three git processes fewer on the way from a step's tests to its end. */
  lane?: LaneFiles | undefined;
}

export interface LaneFiles {
  head: string;
  top: string;
  headIndex: string | undefined;
  gitDir: string;
  /** Where the step ran, relative to `top` ("" or "sub/dir/"). */
  prefix: string;
  /** The user's repository: the lane's trees and commits are written there by its long-lived gits. */
  repo: string;
  /**
   * Given the lane's index update when the commit's tree was made in process (staged-tree.ts):
   * the index learns the committed files in the background, off the step's way to its end, and
   * the lane must not be taken again before that settles (true: the index holds the commit).
   */
  indexLater?: ((update: Promise<boolean>) => void) | undefined;
}

async function commitNow(opts: CommitOptions): Promise<string | undefined> {
  const { cwd, files, branch, env: extra, lane } = opts;
  // A nested repository can't be committed as content; everything else (deleted or not) can.
  const committable: string[] = [];
  const top = lane?.top ?? (await repoTop(cwd));
  for (const file of files) {
    const stats = await lstat(path.join(cwd, file)).catch(() => undefined);
    if (stats?.isDirectory()) continue;
    // A symlink out of the tree is never committed (the repo guard reverts those a step makes).
    if (stats?.isSymbolicLink() && (await pointsOutside(path.join(cwd, file), top))) continue;
    committable.push(file);
  }
  if (committable.length === 0) return undefined;
  const parent = lane !== undefined && branch === undefined ? lane.head : branch === undefined ? await headCommit(cwd) : await branchCommit(cwd, branch);
  const input = committable.map((file) => `${file}\0`).join("");
  const updateIndex = () => gitWithIndexLock(cwd, UPDATE_ARGS, { input, env: extra });
  const later = lane?.indexLater;
  if (lane !== undefined && later !== undefined && branch === undefined && parent !== undefined) {
    const staging = { top: lane.top, prefix: lane.prefix, gitDir: lane.gitDir, repo: lane.repo, env: extra ?? {} };
    const tree = await stagedTree(staging, await knownHistory.treeOf(lane.repo, parent), committable);
    if (tree !== undefined) {
      return record(opts, tree, parent, async () => {
        later(updateIndex().then(() => true, () => false));
        return true;
      });
    }
  }
  const index = lane === undefined ? undefined : new LaneIndex(lane.gitDir);
  try {
    // Built in a scratch index from the parent, so whatever else is staged in the real index stays out.
    const seed = { tree: parent, copyOf: lane?.headIndex };
    const tree = await scratchTree(cwd, seed, (env) => git(cwd, UPDATE_ARGS, { env: { ...extra, ...env }, input }), extra, index && ((file) => index.take(file)));
    return await record(opts, tree, parent, async () => {
      if (!(await index?.commit())) await updateIndex();
      return true;
    });
  } finally {
    await index?.abandon();
  }
}

const UPDATE_ARGS = ["update-index", "--add", "--remove", "-z", "--stdin"];

/**
 * `tree` made the commit on the parent (the branch, HEAD, or the lane's HEAD), and the real index
 * told by `updateIndex`; undefined when the tree is the parent's (nothing new: a commit whose index
 * update a kill -9 cut short, and the index catches up). A lane's commit object is written by the
 * user's repository, whose store the lane writes its objects into anyway: one writer for the run.
 */
async function record(opts: CommitOptions, tree: string, parent: string | undefined, updateIndex: () => Promise<boolean>): Promise<string | undefined> {
  const { cwd, message, branch, onCommit, env: extra, identityFrom, lane } = opts;
  const [repo, objects] = lane === undefined ? [cwd, extra] : [lane.repo, {}];
  if (parent !== undefined && tree === (await knownHistory.treeOf(repo, parent))) {
    await updateIndex();
    return undefined;
  }
  const ref = branch === undefined ? "HEAD" : `refs/heads/${branch}`;
  // Never signed: a signing prompt would hang an unattended run; the branch is for review anyway.
  const text = message.endsWith("\n") ? message : `${message}\n`;
  const sha = await makeCommit(repo, tree, parent === undefined ? [] : [parent], text, { ...objects, ...(await identityEnv(identityFrom ?? cwd)) });
  // The next step's commit usually sits on this one: its tree and history are known without asking git.
  knownHistory.add(sha, parent === undefined ? [] : [parent], tree, text);
  const subject = message.split("\n")[0] ?? "";
  // The old value makes the update fail instead of silently dropping a commit made meanwhile.
  if (!(lane !== undefined && ref === "HEAD" && parent !== undefined && writeRefFile(path.join(lane.gitDir, "HEAD"), sha, { from: parent }))) {
    await git(cwd, ["update-ref", "-m", `commit: ${subject}`, ref, sha, parent ?? ""], { env: extra });
  }
  onCommit?.(sha);
  // The real index learns the committed files, so `git status` in the tree shows them clean.
  await updateIndex();
  return sha;
}

/**
 * A lane's real index, replaced by the commit's scratch index: the same entries `update-index`
 * of the committed files would leave there (the lane's index held HEAD's tree plus, at most,
 * what the step staged of those same files), taken under `index.lock` as git takes it. When the
 * lock is held (a process the step left behind), the caller falls back to `update-index`.
 */
class LaneIndex {
  private lock: string | undefined;
  constructor(private readonly gitDir: string) {}

  async take(scratch: string): Promise<void> {
    const lock = path.join(this.gitDir, "index.lock");
    if (await copyIndex(scratch, lock, true)) this.lock = lock;
  }

  /** Puts the copy in place; false when there is none (the caller updates the index itself). */
  async commit(): Promise<boolean> {
    const lock = this.lock;
    if (lock === undefined) return false;
    this.lock = undefined;
    try {
      await rename(lock, path.join(this.gitDir, "index"));
      return true;
    } catch {
      await rm(lock, { force: true });
      return false;
    }
  }

  async abandon(): Promise<void> {
    if (this.lock !== undefined) await rm(this.lock, { force: true });
    this.lock = undefined;
  }
}


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
