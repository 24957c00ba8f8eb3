import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WorktreeSettings } from "../workstream/model.js";
import { timestamp } from "./branch-name.js";
import { changedBetween, snapshot } from "./changes.js";
import { clearStaleIndexLock, indexLockError } from "./index-lock.js";
import { binaryDiff, git, gitText } from "./run-git.js";
import { scratchTree } from "./scratch-index.js";
import { provisionWorktree } from "./worktree-setup.js";

/**
 * One running step's own worktree: a detached checkout of the step's base (the run's base plus
 * its ancestors' commits), so whatever changes in it is that step's doing and nobody else's.
 */
export interface Lane {
  n: number;
  /** The worktree's top folder. */
  root: string;
  /** Where the step runs: the project's place inside the worktree. */
  workdir: string;
  /** What HEAD must be at: the step's base, then the commit ws made for it. */
  head: string;
}

/**
 * Where a workstream's worktrees live: outside the project, so its linters, test runners, bundlers
 * and module resolution never see them. `WS_WORKTREES_DIR` overrides the per-user folder
 * (`$XDG_STATE_HOME/ws/worktrees`, else `~/.local/state/ws/worktrees`); inside it, one folder per
 * repository (its name and a hash of its path) and one per run branch.
 */
export function lanesHome(gitRoot: string, branch: string, env: NodeJS.ProcessEnv): string {
  const base = env.WS_WORKTREES_DIR || path.join(env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), ".local", "state"), "ws", "worktrees");
  const key = `${path.basename(gitRoot).replace(/[^A-Za-z0-9._-]/g, "_")}-${createHash("sha256").update(gitRoot).digest("hex").slice(0, 10)}`;
  return path.join(base, key, branch.replace(/^ws\//, "").replace(/\//g, "+"));
}

export interface LanesOptions {
  gitRoot: string;
  /** The project folder (realpath), maybe below the repository's top. */
  projectDir: string;
  home: string;
  /** The workstream's state folder: setup logs and records, leftovers of cut-short work. */
  stateDir: string;
  settings?: WorktreeSettings | undefined;
  setupTimeoutMs?: number | undefined;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
}

/**
 * The pool of a workstream's worktrees, reused across steps and runs (what git ignores in them,
 * node_modules, build caches, survives; `worktree.setup` runs once per worktree). A step holds
 * its lane from its first attempt to its end, so retries see their own earlier edits.
 */
export class Lanes {
  private readonly busy = new Set<number>();
  /** Lanes provisioned (copy, link, setup) in this run. */
  private readonly ready = new Set<number>();
  /** Creating worktrees writes the shared git dir: one at a time. */
  private creating: Promise<unknown> = Promise.resolve();
  readonly notes: string[] = [];
  private readonly said = new Set<string>();
  /** Told of each note made once the run has started (the header has been printed by then). */
  onNote: ((text: string) => void) | undefined;

  constructor(readonly options: LanesOptions) {}

  get home(): string {
    return this.options.home;
  }

  /** A free lane checked out (detached) at `base`; anything a cut-short run left in it is kept as a patch first. */
  async acquire(base: string): Promise<Lane & { created: boolean }> {
    let n = 1;
    while (this.busy.has(n)) n++;
    this.busy.add(n);
    try {
      const root = path.join(this.options.home, `lane-${n}`);
      const created = await this.ensure(root, base);
      if (!created) {
        // A kill -9 of ws mid-git leaves index.lock behind, and every git command would fail on it.
        const lock = await clearStaleIndexLock(root);
        if (lock === "removed") this.note(`removed a stale index.lock that an interrupted run left in ${root}`);
        if (lock === "held") throw await indexLockError(root);
        await this.saveLeftovers(root, `lane-${n}`);
        await git(root, ["checkout", "--quiet", "--detach", "--force", "--no-recurse-submodules", base]);
        await git(root, ["clean", "-d", "--force", "--quiet"]);
      }
      const workdir = path.join(root, path.relative(this.options.gitRoot, this.options.projectDir));
      fs.mkdirSync(workdir, { recursive: true });
      if (!this.ready.has(n)) {
        this.ready.add(n);
        await this.provision(n, workdir, created);
      }
      return { n, root, workdir, head: base, created };
    } catch (error) {
      this.busy.delete(n);
      throw error;
    }
  }

  /** Gives a lane back; its uncommitted work (a failed or cut-short step's) is kept as `patchFile`. */
  async release(lane: Lane, patchFile?: string): Promise<string | undefined> {
    try {
      return patchFile === undefined ? undefined : await savePatch(lane.root, patchFile);
    } finally {
      this.busy.delete(lane.n);
    }
  }

  private async ensure(root: string, base: string): Promise<boolean> {
    const registered = fs.existsSync(path.join(root, ".git"));
    if (registered && (await git(root, ["rev-parse", "--git-dir"], { allowFailure: true })).code === 0) return false;
    const work = this.creating.then(async () => {
      await git(this.options.gitRoot, ["worktree", "prune"]);
      if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
        const aside = `${root}-${timestamp(new Date())}`;
        fs.renameSync(root, aside);
        this.note(`moved the leftover folder ${root} (not a git worktree) to ${aside}`);
      }
      fs.mkdirSync(path.dirname(root), { recursive: true });
      await git(this.options.gitRoot, ["worktree", "add", "--quiet", "--detach", root, base]);
    });
    this.creating = work.catch(() => undefined);
    await work;
    return true;
  }

  private async provision(n: number, workdir: string, created: boolean): Promise<void> {
    const { settings } = this.options;
    if (!settings) return;
    const stateDir = path.join(this.options.stateDir, "lanes", `lane-${n}`);
    fs.mkdirSync(stateDir, { recursive: true });
    const provisioned = await provisionWorktree({
      projectDir: this.options.projectDir,
      workdir,
      settings,
      created,
      stateDir,
      env: this.options.env,
      signal: this.options.signal,
      timeoutMs: this.options.setupTimeoutMs,
    });
    // The same words for every lane: said once.
    for (const note of provisioned.notes) this.note(note);
  }

  /** Notes for the run header (before the first step) or, later, a warning; each said once. */
  private note(text: string): void {
    if (!this.said.has(text)) {
      this.said.add(text);
      this.notes.push(text);
      this.onNote?.(text);
    }
  }

  private async saveLeftovers(root: string, name: string): Promise<void> {
    const file = path.join(this.options.stateDir, "leftovers", `${name}-${timestamp(new Date())}.patch`);
    const saved = await savePatch(root, file);
    if (saved !== undefined) this.note(`uncommitted work an interrupted run left in ${root} is kept in ${file}`);
  }
}

/** The uncommitted changes of a worktree (new files included) as a `git apply`-able patch, when there are any. */
export async function savePatch(root: string, file: string): Promise<string | undefined> {
  const dirty = changedBetween(new Map(), await snapshot(root));
  if (dirty.length === 0) return undefined;
  const tree = await scratchTree(root, { tree: "HEAD" }, (env) => git(root, ["add", "--all", "--ignore-errors", "--", "."], { env, allowFailure: true }));
  const patch = await binaryDiff(root, "HEAD", tree);
  if (patch.length === 0) return undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, patch);
  return file;
}

/** Removes every lane of a workstream (`ws clean`): the worktrees and their folder. */
export async function removeLanes(gitRoot: string, home: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of fs.existsSync(home) ? fs.readdirSync(home) : []) {
    const root = path.join(home, entry);
    if (fs.existsSync(path.join(root, ".git"))) await git(gitRoot, ["worktree", "remove", "--force", "--force", root], { allowFailure: true });
    removed.push(root);
  }
  fs.rmSync(home, { recursive: true, force: true });
  await git(gitRoot, ["worktree", "prune"], { allowFailure: true });
  return removed;
}

/** Worktrees of the repository registered under `home` (lanes of a workstream). */
export async function registeredLanes(gitRoot: string, home: string): Promise<string[]> {
  const text = await gitText(gitRoot, ["worktree", "list", "--porcelain"]);
  return text
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length))
    .filter((tree) => tree.startsWith(home + path.sep));
}
