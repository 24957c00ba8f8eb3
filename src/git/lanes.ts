import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WorktreeSettings } from "../workstream/model.js";
import { timestamp } from "./branch-name.js";
import type { TreeIdentity } from "./branch-guard.js";
import { changedBetween, HEAD_KEY, snapshot, type Snapshot } from "./changes.js";
import { commitFiles } from "./commit.js";
import { readGitDir, type GitDirFiles } from "./git-dir-guard.js";
import { clearStaleIndexLock, indexLockError } from "./index-lock.js";
import { checkLaneGitDir, laneDotGit, laneGitDir, laneWatch, ownLaneGitDir, readText, readUserInfo } from "./lane-git-dir.js";
export { pinsOf } from "./lane-git-dir.js";
import { binaryDiff, git, gitText, splitNul } from "./run-git.js";
import { copyIndex, scratchTree } from "./scratch-index.js";
import { provisionWorktree } from "./worktree-setup.js";
import { addSetupMade, environmentStamp, laneVariables, missingPathHint, planLaneEnv, provideLaneEnv, refuseSetupIntoLinks, withLaneExcludes, type LaneEnvPlan } from "./lane-env.js";
import { writeRefFile } from "./ref-file.js";
import { warmWriters } from "./object-writer.js";
import { knowFolder } from "./repo.js";

/**
 * One running step's own worktree: a detached checkout of the step's base (the run's base plus
 * its ancestors' commits) in a repository of its own that borrows the user's objects
 * (lane-git-dir.ts), so whatever changes in it, git dir included, is that step's doing and
 * nobody else's, and none of it reaches the user's repository.
 */
export interface Lane {
  n: number;
  /** The worktree's top folder. */
  root: string;
  /** The lane's own git dir (beside the lane) and how it looked when ws handed it over. */
  gitDir: string;
  gitDirBaseline: GitDirFiles;
  /** Where the step runs: the project's place inside the worktree. */
  workdir: string;
  /** What HEAD must be at: the step's base, then the commit ws made for it. */
  head: string;
  /** Where the lane is and how its `.git` file reads, as git reports it. */
  identity: TreeIdentity;
  /** A copy of the lane's index holding exactly `head`'s tree (see Lanes.keepHeadIndex). */
  headIndex?: string | undefined;
  /** The lane's state before the step, when ws knows it without looking (a clean lane at its base). */
  before?: Snapshot | undefined;
  /** Variables every process in the lane gets (lane-env.ts: PYTHONPATH to the lane's code). */
  env?: Record<string, string> | undefined;
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

/** How acquire provisions a new lane: see provisionWorktree's seedOnly and onSetup. */
interface Ahead {
  seedOnly?: boolean | undefined;
  onSetup?: (() => Promise<unknown> | undefined) | undefined;
}

export interface LanesOptions {
  gitRoot: string;
  /** The refs that keep each lane's base alive in the user's repository: `<pins>/lane-<n>` (see pinsOf). */
  pins: string;
  /** The project folder (realpath), maybe below the repository's top. */
  projectDir: string;
  home: string;
  /** The workstream's state folder: setup logs and records, leftovers of cut-short work. */
  stateDir: string;
  settings?: WorktreeSettings | undefined;
  setupTimeoutMs?: number | undefined;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  onSetupStart?: ((setup: SetupStart) => void) | undefined;
}

/** A lane's `worktree.setup` starting: which lane, the command, where its output goes. */
export interface SetupStart {
  lane: number;
  command: string;
  logFile: string;
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
  /** Lanes are made one at a time: retiring an older ws's worktree writes the user's git dir
   *  (its worktree list), and two `git worktree remove`/`prune` at once race on it. */
  private creating: Promise<unknown> = Promise.resolve();
  readonly notes: string[] = [];
  private readonly said = new Set<string>();
  /** Told of each note made once the run has started (the header has been printed by then). */
  onNote: ((text: string) => void) | undefined;

  constructor(readonly options: LanesOptions) {}

  get home(): string {
    return this.options.home;
  }

  /** Starts what every lane needs of the checkout, asked once a run (see acquire, which waits for it): before the first lane is wanted. */
  prefetch(): void {
    this.envPlan().catch(() => undefined);
    this.userRepo().catch(() => undefined);
  }

  /** A free lane checked out (detached) at `base`; anything a cut-short run left in it is kept as a patch first. */
  async acquire(base: string, how: Ahead = {}): Promise<Lane & { created: boolean }> {
    // A free lane already at `base` first (a chain's next step: no checkout at all), then one
    // already seen clean (the look at one just given back may still be running), else the lowest.
    const free = (k: number) => !this.busy.has(k);
    let n = [...this.heads].find(([k, head]) => head === base && free(k))?.[0] ?? Math.min(...[...this.seenClean].filter(free));
    if (!Number.isFinite(n)) for (n = 1; this.busy.has(n); ) n++;
    this.busy.add(n);
    this.seenClean.delete(n);
    try {
      const root = path.join(this.options.home, `lane-${n}`);
      const gitDir = laneGitDir(root);
      // The pin first: from here on the user's `git gc --prune=now` keeps the base's objects,
      // which the lane only borrows (the base of a step below a join is on no branch of its own).
      // It runs beside the lane's own git work; its failure is waited for below, never left unhandled.
      const pin = this.pin(n, base).then(() => undefined, (error: unknown) => error);
      // The run's environment plan (a check-ignore) beside the pin and the look: none needs the others.
      const planned = this.envPlan();
      planned.catch(() => undefined);
      // The look at the lane when it was given back comes first: no git of it may still run there.
      const wasClean = (await this.clean.get(n)) === true;
      this.clean.delete(n);
      const env = await planned;
      const made = await this.ensure(root, gitDir, base);
      const created = made === "made";
      // A look taken before ws put the lane's git dir back (its ignores, its config) may have
      // been told "clean" by what it put back: then it is not trusted.
      const clean = made === "kept" && wasClean;
      if (!created) await this.reset(n, root, base, clean);
      const unpinned = await pin;
      if (unpinned !== undefined) throw unpinned;
      const workdir = path.join(root, path.relative(this.options.gitRoot, this.options.projectDir));
      fs.mkdirSync(workdir, { recursive: true });
      const headIndex = await this.keepHeadIndex(n, gitDir);
      // Seen clean when given back, and nothing brought in by `worktree` settings or the project's environments since: the
      // step's "before" is its base, nothing to ask git. (Not a lane made now: a file committed
      // with line endings its attributes would change shows as modified right after a checkout.)
      let provisioned = false;
      if (!this.ready.has(n)) {
        this.ready.add(n);
        const result = await this.provision(n, workdir, created, how);
        provisioned = result.changed;
        if (!result.done) this.ready.delete(n);
      }
      const before: Snapshot | undefined = clean && !provisioned ? new Map([[HEAD_KEY, base]]) : undefined;
      // What the step is handed, to tell afterwards what it changed in the lane's git dir.
      const gitDirBaseline = await readGitDir(laneWatch(gitDir));
      const identity = this.identityOf(n, root);
      const lane = { n, root, gitDir, gitDirBaseline, workdir, head: base, created, identity, headIndex, before, env: laneVariables(env, root) };
      // What git would say of the lane's folders, known: no `rev-parse` at the step's first look.
      knowFolder(workdir, { prefix: lanePrefix(lane), top: identity.root });
      this.warmLater(lane);
      return lane;
    } catch (error) {
      this.busy.delete(n);
      throw error;
    }
  }

  /**
   * A reused lane moved to `base`. One that the last step left clean (its tests wrote nothing
   * git sees, ws looked when it was given back) needs only the checkout; otherwise a stale
   * index.lock is cleared, leftovers are kept as a patch, and what is untracked is removed.
   */
  private async reset(n: number, root: string, base: string, clean: boolean): Promise<void> {
    const head = this.heads.get(n);
    this.heads.delete(n);
    // Clean, and its HEAD (which ws keeps: a step that moved it was put back) already the base.
    if (clean && head === base) return;
    if (!clean) {
      // A kill -9 of ws mid-git leaves index.lock behind, and every git command would fail on it.
      const lock = await clearStaleIndexLock(root);
      if (lock === "removed") this.note(`removed a stale index.lock that an interrupted run left in ${root}`);
      if (lock === "held") throw await indexLockError(root);
      await this.saveLeftovers(root, `lane-${n}`);
    }
    await git(root, ["checkout", "--quiet", "--detach", "--force", "--no-recurse-submodules", base]);
    if (!clean) await git(root, ["clean", "-d", "--force", "--quiet"]);
  }

  /** Whether each lane given back was clean (nothing untracked or changed): looked at when it was given back, off the next step's way. */
  private readonly clean = new Map<number, Promise<boolean>>();
  private readonly identities = new Map<number, TreeIdentity>();

  /** The lane's identity as git would report it (`rev-parse --show-toplevel --absolute-git-dir`
   *  resolves symlinks, and so does realpath), read once per lane and run. */
  private identityOf(n: number, root: string): TreeIdentity {
    let identity = this.identities.get(n);
    if (identity === undefined) {
      identity = { root: fs.realpathSync(root), gitDir: fs.realpathSync(laneGitDir(root)), dotGit: laneDotGit(root) };
      this.identities.set(n, identity);
    }
    return identity;
  }

  /**
   * Looks, in the background, at the lanes an earlier run left (beyond the first, which the run
   * has just taken and given back): a lane found clean then needs only its checkout when a step
   * takes it, so the first fan-out of a run does not wait for a look at each of its lanes.
   */
  warm(): void {
    const home = this.options.home;
    const entries = fs.existsSync(home) ? fs.readdirSync(home) : [];
    for (const entry of entries) {
      const n = Number(/^lane-(\d+)$/.exec(entry)?.[1] ?? 0);
      if (n === 0 || this.busy.has(n) || this.clean.has(n)) continue;
      const root = path.join(home, entry);
      if (readText(path.join(root, ".git")) !== laneDotGit(root) || fs.existsSync(path.join(laneGitDir(root), "index.lock"))) continue;
      this.clean.set(n, this.lookClean(n, root));
      // Where the last run left it (ws writes a lane's HEAD detached, as a sha): a clean lane
      // already at the step's base then needs no checkout (reset), as within a run.
      const head = readText(path.join(laneGitDir(root), "HEAD"))?.trim();
      if (head !== undefined && LANE_HEAD.test(head) && !this.heads.has(n)) this.heads.set(n, head);
    }
  }

  /** What HEAD of each free lane was when it was given back (the commit ws made there, or its base). */
  private readonly heads = new Map<number, string>();

  /** Lanes free and seen clean, whose look is over. */
  private readonly seenClean = new Set<number>();

  private async lookClean(n: number, root: string): Promise<boolean> {
    const clean = await lookClean(root);
    if (clean && !this.busy.has(n)) this.seenClean.add(n);
    return clean;
  }

  /**
   * A copy of the lane's index as the checkout left it (HEAD's tree, with the files' stat data),
   * kept in ws's state folder, out of the step's tree and git dir: the step's commit starts its
   * scratch index from it instead of a `read-tree`. Undefined when it cannot be copied.
   */
  private async keepHeadIndex(n: number, gitDir: string): Promise<string | undefined> {
    const file = path.join(this.options.stateDir, "lanes", `lane-${n}`, "head-index");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return (await copyIndex(path.join(gitDir, "index"), file)) ? file : undefined;
  }

  /**
   * A passed step's files as one commit on the lane's HEAD, its objects written straight into the
   * user's repository (GIT_OBJECT_DIRECTORY), so the run's branch there can take the commit with no
   * fetch; the author is named by the user's config, not the lane's (ws's own). The lane's own
   * objects are left out of sight on purpose: git writes no object it can already find, and a blob
   * that ws's look at the tree (or the step's `git add`) left in the lane's store would then be
   * missing from the user's. Everything the commit needs is there: its parent, the step's base, is
   * the user's, and its new files are hashed from disk.
   */
  async commit(lane: Lane, files: string[], message: string, onCommit: (sha: string) => void): Promise<string | undefined> {
    const env = { GIT_OBJECT_DIRECTORY: await this.userObjects() };
    // The index update a commit made in process leaves for later: the lane is not taken again before it is over.
    let indexed: Promise<boolean> = Promise.resolve(true);
    const indexLater = (update: Promise<boolean>) => (indexed = update);
    const laneFiles = { head: lane.head, top: lane.identity.root, headIndex: lane.headIndex, gitDir: lane.gitDir, prefix: lanePrefix(lane), repo: this.options.gitRoot, indexLater };
    // The look for the next step to take the lane runs beside the commit, on the other core:
    // what git lists now must be exactly what the commit takes (release takes the answer over).
    const look = git(lane.root, ["--no-optional-locks", ...STATUS], { allowFailure: true }).catch(() => undefined);
    const sha = await commitFiles({ cwd: lane.workdir, files, message, onCommit, env, identityFrom: this.options.gitRoot, lane: laneFiles });
    const clean = look.then((result) => result !== undefined && result.code === 0 && cleanOnceCommitted(lane, result.stdout, files));
    this.looks.set(lane, Promise.all([clean, indexed]).then(([looked, index]) => looked && index));
    return sha;
  }

  /** Lanes whose blob writer runs (started once, kept for the run). */
  private readonly warmed = new Set<number>();

  /**
   * Starts the lane's long-lived blob writer (its commit hashes the step's files through it) once
   * the step's command is under way: a process start costs ws's thread ~1 ms, which the step's
   * start should not wait for. A step that ends sooner starts it itself.
   */
  private warmLater(lane: Lane): void {
    if (this.warmed.has(lane.n)) return;
    this.warmed.add(lane.n);
    setTimeout(() => {
      this.userObjects().then((objects) => warmWriters(lane.identity.root, { env: { GIT_OBJECT_DIRECTORY: objects } }), () => undefined);
    }, WARM_AFTER_MS).unref();
  }

  /** Looks started at a passed step's commit, for release. */
  private readonly looks = new WeakMap<Lane, Promise<boolean>>();

  /** After an attempt, before any git command in the lane: what the step changed in the lane's
   *  git dir (hooks, config, refs other than HEAD), put back around `meanwhile` (see checkLaneGitDir). */
  checkGitDir(lane: Lane, keepDir: string, meanwhile: () => Promise<string[]>): Promise<string[]> {
    return checkLaneGitDir(lane.gitDir, lane.gitDirBaseline, keepDir, meanwhile);
  }

  /** For a step that ended "not found" (exit 127): the setting that brings a path the checkout has and the lane lacks. */
  missingPathHint(tail: readonly string[], workdir: string): string | undefined {
    return missingPathHint(tail, workdir, this.plan);
  }

  /**
   * Gives back a lane taken and not worked in (the run's first, provisioned before any step) that
   * was known clean at its base when taken (`before`): it still is, so no look of its own.
   */
  async giveBackUntouched(lane: Lane): Promise<void> {
    if (lane.before === undefined) {
      await this.release(lane);
      return;
    }
    this.clean.set(lane.n, Promise.resolve(true));
    this.heads.set(lane.n, lane.head);
    this.seenClean.add(lane.n);
    this.busy.delete(lane.n);
  }

  /** Resolves once the looks at the lanes given back and the index updates of their commits are
   *  over: none of them may be cut short by ws's exit (an update-index killed leaves index.lock). */
  async settled(): Promise<void> {
    await Promise.all([...this.clean.values()].map((look) => look.catch(() => false)));
  }

  /** Gives a lane back; its uncommitted work (a failed or cut-short step's) is kept as `patchFile`. */
  async release(lane: Lane, patchFile?: string): Promise<string | undefined> {
    try {
      if (patchFile === undefined) {
        // A passed step's lane is looked at now, beside what follows: the next step to take it
        // then needs no look of its own before the checkout.
        const look = this.looks.get(lane) ?? this.lookClean(lane.n, lane.root);
        this.clean.set(lane.n, look);
        this.heads.set(lane.n, lane.head);
        void look.then((clean) => clean && !this.busy.has(lane.n) && this.seenClean.add(lane.n));
        return undefined;
      }
      this.clean.delete(lane.n);
      this.seenClean.delete(lane.n);
      this.heads.delete(lane.n);
      // A look started at the step's commit (its join then failed) must be over before the
      // lane's next git: its `status` may be refreshing the lane's index under index.lock.
      await this.looks.get(lane);
      const saved = await savePatch(lane.root, patchFile);
      // Kept: the lane is cleaned now, so the next run does not find it dirty and keep the same
      // work again as "uncommitted work an interrupted run left" (only a cut-short run leaves that).
      if (saved !== undefined) await cleanTree(lane.root);
      return saved;
    } finally {
      this.busy.delete(lane.n);
    }
  }

  /**
   * Makes sure `root` is a lane of this kind, its git dir owned by ws again (a step of a run that
   * was cut short may have planted something there) before any git command runs in it. A worktree
   * an older ws made there (registered in the user's repository, sharing its git dir) has its
   * uncommitted work kept as a patch, is removed from the repository's worktree list and replaced.
   * Returns whether the lane was made now (checked out at `base`), kept as it was, or kept with
   * something of its git dir put back (the user's ignores changed since, or a step's doing).
   */
  private async ensure(root: string, gitDir: string, base: string): Promise<"made" | "kept" | "restored"> {
    const dotGit = readText(path.join(root, ".git"));
    if (dotGit === laneDotGit(root) && fs.existsSync(path.join(gitDir, "HEAD"))) {
      const objects = await this.userObjects();
      // The user's ignores as they are now (a step of theirs may have added one since the last run).
      const changed = ownLaneGitDir(gitDir, objects, withLaneExcludes(readUserInfo(objects), this.plan));
      const owned = changed.filter((what) => what !== "info");
      if (owned.length > 0) this.note(`put back the git dir of ${root}, which an interrupted run's step had changed (${owned.join(", ")})`);
      return changed.length > 0 ? "restored" : "kept";
    }
    const work = this.creating.then(async () => {
      if (dotGit !== undefined && dotGit.startsWith("gitdir: ")) await this.retireWorktree(root);
      if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
        const aside = `${root}-${timestamp(new Date())}`;
        fs.renameSync(root, aside);
        this.note(`moved the leftover folder ${root} (not a lane of ws) to ${aside}`);
      }
      fs.rmSync(gitDir, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(root), { recursive: true });
      const objects = await this.userObjects();
      // The user's object format whatever init.defaultObjectFormat says (a lane reads their
      // objects); no template: a lane has no hooks, not even the samples.
      const format = `--object-format=${await this.objectFormat()}`;
      await git(path.dirname(root), ["init", "--quiet", "--template=", format, "--separate-git-dir", gitDir, root]);
      ownLaneGitDir(gitDir, objects, withLaneExcludes(readUserInfo(objects), this.plan));
      await git(root, ["checkout", "--quiet", "--detach", "--force", "--no-recurse-submodules", base]);
    });
    this.creating = work.catch(() => undefined);
    await work;
    return "made";
  }

  /** An older ws's worktree at `root`: its uncommitted work kept, then unregistered and deleted. */
  private async retireWorktree(root: string): Promise<void> {
    if ((await git(root, ["rev-parse", "--git-dir"], { allowFailure: true }).catch(() => undefined))?.code === 0) {
      await this.saveLeftovers(root, path.basename(root)).catch(() => undefined);
    }
    await git(this.options.gitRoot, ["worktree", "remove", "--force", "--force", root], { allowFailure: true });
    fs.rmSync(root, { recursive: true, force: true });
    await git(this.options.gitRoot, ["worktree", "prune"], { allowFailure: true });
    this.note(`replaced the worktree ${root} of an older ws by a lane with a git dir of its own (nothing a step does there reaches your repository's config, hooks or refs)`);
  }

  /** What each lane's pin holds now: a lane taken again at the same base writes nothing. */
  private readonly pinned = new Map<number, string>();

  /**
   * Points lane n's pin at `base`. A ref file written by git's own lock protocol (`<ref>.lock`
   * made exclusively, then renamed over the ref), which a concurrent `git pack-refs` of the user
   * respects, costs no process: a git per step was most of what lanes of their own added to a
   * step (bench/NOTES.md). A repository whose refs are not files (reftable) gets `update-ref`.
   */
  private async pin(n: number, base: string): Promise<void> {
    if (this.pinned.get(n) === base) return;
    const ref = `${this.options.pins}/lane-${n}`;
    const common = path.dirname(await this.userObjects());
    if (fs.existsSync(path.join(common, "reftable")) || !writeRefFile(path.join(common, ref), base, { makeFolder: true })) {
      await git(this.options.gitRoot, ["update-ref", ref, base]);
    }
    this.pinned.set(n, base);
  }

  private objectsDir: Promise<{ objects: string; format: string }> | undefined;

  /** The user's object folder (which every lane borrows) and object format, asked once. */
  private userRepo(): Promise<{ objects: string; format: string }> {
    return (this.objectsDir ??= gitText(this.options.gitRoot, ["rev-parse", "--path-format=absolute", "--git-path", "objects", "--show-object-format"]).then((text) => {
      const [objects = "", format = "sha1"] = text.split("\n");
      return { objects, format };
    }));
  }

  async userObjects(): Promise<string> {
    return (await this.userRepo()).objects;
  }

  private async objectFormat(): Promise<string> {
    return (await this.userRepo()).format;
  }

  private plan: LaneEnvPlan | undefined;
  private planning: Promise<LaneEnvPlan> | undefined;

  /** The project's environments every lane gets (lane-env.ts), found once per run. */
  private async envPlan(): Promise<LaneEnvPlan> {
    this.planning ??= planLaneEnv(this.options).then((plan) => {
      refuseSetupIntoLinks(this.options.settings, plan);
      for (const note of plan.notes) this.note(note);
      return (this.plan = plan);
    });
    return this.planning;
  }

  /**
   * The lanes the run's first steps will take besides the first (`count` of them), made and
   * seeded while the first lane's setup runs, so that they are ready when it is: called from
   * that setup's start (acquire's `onSetup`). A lane that cannot be had so is left for its step.
   */
  ahead(base: string, count: number): Promise<void> {
    const made = Array.from({ length: count }, () => this.acquire(base, { seedOnly: true }).then((lane) => this.release(lane)));
    return Promise.allSettled(made).then(() => undefined);
  }

  /**
   * Brings the project's environments and what `worktree` settings name into lane n: whether that
   * may have changed the lane, and whether it is done (not when a seedOnly lane was left without its setup).
   */
  private async provision(n: number, workdir: string, created: boolean, how: Ahead): Promise<{ changed: boolean; done: boolean }> {
    const { settings } = this.options;
    const provided = this.plan ? provideLaneEnv(this.plan, path.join(this.options.home, `lane-${n}`)) : { notes: [], changed: false };
    for (const note of provided.notes) this.note(note);
    if (!settings) return { changed: provided.changed, done: true };
    const stamp = environmentStamp(this.plan);
    const stateDir = path.join(this.options.stateDir, "lanes", `lane-${n}`);
    fs.mkdirSync(stateDir, { recursive: true });
    const objects = await this.userObjects();
    const provisioned = await provisionWorktree({
      projectDir: this.options.projectDir,
      workdir,
      settings,
      created,
      stateDir,
      env: this.options.env,
      signal: this.options.signal,
      timeoutMs: this.options.setupTimeoutMs,
      lane: { home: this.options.home, n },
      seedOnly: how.seedOnly,
      onSetup: how.onSetup,
      onSetupStart: (logFile) => this.options.onSetupStart?.({ lane: n, command: settings.setup ?? "", logFile }),
      onSetUp: (made) => {
        if (this.plan === undefined) return;
        addSetupMade(this.plan, this.options.stateDir, made);
        if (this.plan.setupMade.length === 0) return;
        // Said each run that sets up, not only when first seen: that run may have failed before saying it.
        this.note(setupMadeNote(this.plan.setupMade));
        this.excludeSetupMade(n, objects);
      },
    });
    // A lane seeded from one whose setup made them, or made before the first setup said so.
    if (this.plan !== undefined && this.plan.setupMade.length > 0) this.excludeSetupMade(n, objects);
    // The same words for every lane: said once.
    for (const note of provisioned.notes) this.note(note);
    if (settings.setup !== undefined && environmentStamp(this.plan) !== stamp) this.note(`worktree.setup "${settings.setup}" changed an environment of your checkout that the lanes share (${this.plan?.envPaths.join(", ")}): it installs into yours; give the lanes their own (worktree.copy, or a setup that makes one)`);
    return { changed: provided.changed || settings.copy.length > 0 || settings.link.length > 0 || settings.setup !== undefined, done: provisioned.done };
  }

  /** The lane's ignores with what the setup makes: it is no step's work, and no reset removes it. */
  private excludeSetupMade(n: number, objects: string): void {
    ownLaneGitDir(laneGitDir(path.join(this.options.home, `lane-${n}`)), objects, withLaneExcludes(readUserInfo(objects), this.plan));
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

function setupMadeNote(paths: readonly string[]): string {
  const [them, are] = paths.length === 1 ? ["it", "is"] : ["them", "are"];
  return `worktree.setup made ${paths.join(", ")}, which your .gitignore does not ignore: ${them} ${are} ignored in the lanes (no step's work, and copied to new lanes instead of running the setup again); add ${them} to .gitignore to say so in your checkout too`;
}

/** Where a lane's step runs, relative to its top, as git spells a prefix ("" or "sub/dir/"). */
function lanePrefix(lane: Lane): string {
  const relative = path.relative(lane.root, lane.workdir).split(path.sep).join("/");
  return relative === "" ? "" : `${relative}/`;
}

/** A lane's tree as its HEAD has it; what git ignores (node_modules, caches) stays. */
async function cleanTree(root: string): Promise<void> {
  await git(root, ["checkout", "--quiet", "--detach", "--force", "--no-recurse-submodules", "HEAD"]);
  await git(root, ["clean", "-d", "--force", "--quiet"]);
}

/** A detached HEAD as ws leaves a lane's (a symbolic one, a step's `git switch`, is not trusted). */
const LANE_HEAD = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** How long after a lane is handed over its blob writer starts (see warmLater). */
const WARM_AFTER_MS = 30;

const STATUS = ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"];

/** Whether git sees nothing changed or untracked in a lane (false when it cannot tell). */
async function lookClean(root: string): Promise<boolean> {
  const look = git(root, STATUS, { allowFailure: true });
  return look.then((result) => result.code === 0 && result.stdout.length === 0, () => false);
}

/**
 * Whether a lane is clean once `files` (relative to its workdir) are committed, from a look
 * taken just before the commit: every path git listed is one of them, a file (a folder, a nested
 * repository, stays uncommitted). Anything else (what an acceptance test left) is not clean.
 */
function cleanOnceCommitted(lane: Lane, status: Buffer, files: readonly string[]): boolean {
  const prefix = path.relative(lane.root, lane.workdir);
  const committed = new Set(files.map((file) => path.posix.normalize(prefix === "" ? file : `${prefix.split(path.sep).join("/")}/${file}`)));
  for (const field of splitNul(status)) {
    const file = field.slice(3);
    if (!committed.has(file)) return false;
    if (fs.lstatSync(path.join(lane.root, file), { throwIfNoEntry: false })?.isDirectory()) return false;
  }
  return true;
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

/** Removes every lane of a workstream (`ws clean`): the lanes, their git dirs and their folder,
 *  the pins that kept their bases, and the worktrees an older ws made there. */
export async function removeLanes(gitRoot: string, home: string, pins: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of home !== "" && fs.existsSync(home) ? fs.readdirSync(home) : []) {
    const root = path.join(home, entry);
    const dotGit = readText(path.join(root, ".git"));
    if (dotGit !== undefined && dotGit !== laneDotGit(root)) await git(gitRoot, ["worktree", "remove", "--force", "--force", root], { allowFailure: true });
    if (!entry.endsWith(".git")) removed.push(root);
  }
  if (home !== "") fs.rmSync(home, { recursive: true, force: true });
  await git(gitRoot, ["worktree", "prune"], { allowFailure: true });
  await removePins(gitRoot, pins);
  return removed;
}

async function removePins(gitRoot: string, pins: string): Promise<void> {
  const refs = splitLines(await gitText(gitRoot, ["for-each-ref", "--format=%(refname)", `${pins}/`]));
  if (refs.length === 0) return;
  await git(gitRoot, ["update-ref", "--stdin"], { input: refs.map((ref) => `delete ${ref}\n`).join("") });
}

function splitLines(text: string): string[] {
  return text.split("\n").filter(Boolean);
}


