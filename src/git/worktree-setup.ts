import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import { formatDuration } from "../format/duration.js";
import type { WorktreeSettings } from "../workstream/model.js";
import { cloneSupport, ignoredEntries, relocateVenvs, seedLane, setupInputs, type CloneKind } from "./lane-seed.js";
import { git, splitNul } from "./run-git.js";
import { writeFileAtomicSync } from "../store/atomic-write.js";

/** What the run's worktree was given beyond its checkout (for the run header). */
interface Provisioned {
  notes: string[];
  /** False when a seedOnly lane could not be seeded: left without its setup, for its step to run it. */
  done: boolean;
}

/** A lane's setup record (`setup.json`), written last: present means its ignored files are whole. */
interface SetupRecord {
  command: string;
  tree: string;
  /** setupInputs(): the command and the lockfiles the lane was set up for. */
  inputs?: string | undefined;
  /** setupInputs() once it was set up: `npm install` without a committed lockfile writes one, and that is no change to set up for again. */
  after?: string | undefined;
  at: string;
  exitCode: number;
  /** Set up by the command, or given a set-up lane's files (cloned, copied); `from` that lane's workdir. */
  how?: "setup" | CloneKind | undefined;
  from?: string | undefined;
  /** How long that took, and how long the setup it stands for took (to tell a slow copy). */
  ms?: number | undefined;
  setupMs?: number | undefined;
}

/** Which lane a worktree is: `<home>/lane-<n>`, its state folder `<states>/lane-<n>` beside its siblings'. */
export interface LaneId {
  home: string;
  n: number;
}

type ProvisionOptions = Parameters<typeof provisionWorktree>[0];

/**
 * Brings into the run's worktree what git ignores but the steps need: `copy` entries are copied
 * afresh each run (an edited `.env` reaches the next run), `link` entries are symlinks to the
 * project's own folder (one node_modules for both), and `setup` runs once per worktree: its success
 * is recorded in `<state>/setup.json` and it runs again only when the tree is new, the command
 * changed or a lockfile changed. A lane (`lane`) is first given the ignored files of a sibling
 * lane set up for the same inputs (lane-seed.ts), and the setup runs only when there is none.
 * Its output goes to `<state>/setup.log`. Paths are relative to the project folder and were
 * checked by the schema (relative, no `..`).
 */
export async function provisionWorktree(opts: {
  projectDir: string;
  workdir: string;
  settings: WorktreeSettings;
  /** True when the tree was just made: an earlier setup did not happen in it. */
  created: boolean;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  /** A hung setup (a registry that never answers) must not hold the run forever; 0 = none. */
  timeoutMs?: number | undefined;
  /** The lane this is, so that it can be seeded from its siblings; without it, setup only. */
  lane?: LaneId | undefined;
  /** Seeded from a sibling or nothing: a lane made ahead of its step never runs the setup itself. */
  seedOnly?: boolean | undefined;
  /** Told when this lane's setup starts (the other lanes of the run's start can be made meanwhile);
   *  what it returns is waited for before the lane is handed to its step. */
  onSetup?: (() => Promise<unknown> | undefined) | undefined;
  /**
   * Told, once the setup has ended (failed too) and before any lane copies from this one, what it
   * left untracked that git does not ignore, often nothing (`.venv/` where the project's
   * .gitignore has no entry for it), relative to the repository's top: the lane must ignore
   * those, or they read as a step's work and the next reset removes them.
   */
  onSetUp?: ((made: string[]) => void) | undefined;
  /** Told as the setup command starts in this lane (a long `npm ci` must not be a silent terminal), with its log. */
  onSetupStart?: ((logFile: string) => void) | undefined;
}): Promise<Provisioned> {
  const { projectDir, workdir, settings } = opts;
  const notes: string[] = [];
  const missing: string[] = [];
  for (const entry of settings.copy) {
    const from = path.join(projectDir, entry);
    if (!fs.existsSync(from)) missing.push(entry);
    else {
      fs.mkdirSync(path.dirname(path.join(workdir, entry)), { recursive: true });
      fs.cpSync(from, path.join(workdir, entry), { recursive: true, force: true, dereference: false });
    }
  }
  for (const entry of settings.link) {
    const from = path.join(projectDir, entry);
    if (!fs.existsSync(from)) missing.push(entry);
    else if (!linkInto(from, path.join(workdir, entry))) notes.push(`worktree.link: ${entry} already exists in the worktree as a real file or folder; left as it is`);
  }
  if (missing.length > 0) notes.push(`worktree: ${missing.join(", ")} not found in ${projectDir}; not brought into the worktree`);
  const brought = [...settings.copy, ...settings.link].filter((e) => !missing.includes(e));
  if (brought.length > 0) {
    const copied = settings.copy.filter((e) => brought.includes(e));
    const linked = settings.link.filter((e) => brought.includes(e));
    notes.push(`worktree: ${[copied.length > 0 ? `copied ${copied.join(", ")}` : "", linked.length > 0 ? `linked ${linked.join(", ")}` : ""].filter(Boolean).join("; ")}`);
    const visible = await notIgnored(workdir, brought);
    if (visible.length > 0) notes.push(`worktree: ${visible.join(", ")} ${visible.length === 1 ? "is" : "are"} not ignored by git in the worktree (a symlink needs a pattern without a trailing "/"); steps see ${visible.length === 1 ? "it" : "them"} as untracked`);
  }
  const done = settings.setup === undefined || (await runSetup(opts, settings.setup, notes));
  return { notes, done };
}

/** A symlink at `to` pointing at `from`; false when `to` is a real file or folder (never deleted). */
function linkInto(from: string, to: string): boolean {
  const existing = fs.lstatSync(to, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) {
    if (fs.readlinkSync(to) === from) return true;
    fs.rmSync(to);
  } else if (existing !== undefined) return false;
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.symlinkSync(from, to);
  return true;
}

async function notIgnored(workdir: string, entries: string[]): Promise<string[]> {
  // check-ignore refuses the literal-pathspec mode ws's git calls run in (a fatal, read as "nothing ignored").
  const input = entries.map((e) => `${e}\0`).join("");
  const result = await git(workdir, ["check-ignore", "--no-index", "--stdin", "-z"], { input, allowFailure: true, env: { GIT_LITERAL_PATHSPECS: "0" } });
  const ignored = new Set(result.stdout.toString("utf8").split("\0").filter(Boolean));
  return entries.filter((e) => !ignored.has(e));
}

/** A note when setup ran or a lane was seeded; nothing when this lane's setup was already done
 *  for these inputs (said every run, for every worktree, it was noise). False: a seedOnly lane
 *  that no sibling could seed, left as it was. */
async function runSetup(opts: ProvisionOptions, command: string, notes: string[]): Promise<boolean> {
  const recordFile = path.join(opts.stateDir, "setup.json");
  const logFile = path.join(opts.stateDir, "setup.log");
  if (opts.created) fs.rmSync(recordFile, { force: true });
  const inputs = inputsOf(opts, command);
  const record = readRecord(recordFile);
  if (isDone(record, command, opts.workdir, inputs)) return true;
  // Gone before anything in the lane changes: a copy or setup cut short leaves no record behind.
  fs.rmSync(recordFile, { force: true });
  fs.rmSync(logFile, { force: true });
  const seeded = opts.lane === undefined ? undefined : await seedFromLane(opts, opts.lane, command, inputs, logFile, notes);
  if (seeded !== undefined && "how" in seeded) {
    writeRecord(recordFile, { command, tree: opts.workdir, inputs, after: inputsOf(opts, command), at: new Date().toISOString(), exitCode: 0, ...seeded });
    return true;
  }
  if (opts.seedOnly) return false;
  const flight = seeded?.flight;
  const alongside = flight && opts.onSetup?.();
  if (alongside) flight?.hold(alongside);
  try {
    const before = new Set(await untracked(opts.workdir));
    opts.onSetupStart?.(logFile);
    // What a failed or cancelled setup made (half a .venv) is no step's work either: said too.
    const setupMs = await setUp(opts, command, logFile).finally(async () => {
      const made = (await untracked(opts.workdir).catch(() => [])).filter((entry) => !before.has(entry));
      opts.onSetUp?.(made);
    });
    writeRecord(recordFile, { command, tree: opts.workdir, inputs, after: inputsOf(opts, command), at: new Date().toISOString(), exitCode: 0, how: "setup", ms: setupMs, setupMs });
    await flight?.land(true);
  } finally {
    await flight?.land(false);
  }
  notes.push(`worktree.setup "${command}" ran in the worktree (output: ${logFile})`);
  return true;
}

/** Runs the setup command in the lane; its time in ms, or a UserError (exit 1, 130 when cancelled). */
async function setUp(opts: ProvisionOptions, command: string, logFile: string): Promise<number> {
  const { runProcess } = await import("../proc/run-process.js");
  const env = Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined));
  const started = performance.now();
  const result = await runProcess({ command: "/bin/sh", args: ["-c", command], cwd: opts.workdir, env, logFile, signal: opts.signal, timeoutMs: opts.timeoutMs, tailLines: 20 });
  if (result.outcome === "cancelled") {
    throw new UserError(`worktree.setup "${command}" was cancelled; no step ran. Output: ${logFile}`, { exitCode: 130, fix: "run again: the setup starts over in that lane" });
  }
  if (result.outcome !== "exited" || result.exitCode !== 0) {
    const how =
      result.outcome === "exited" ? `exit ${result.exitCode ?? "?"}`
      : result.outcome === "spawn_error" ? (result.error ?? "spawn error")
      : `timed out after ${formatDuration(opts.timeoutMs ?? 0)}, execution.timeout_per_step`;
    const tail = result.tail.length > 0 ? `\n${result.tail.map((l) => `  | ${l}`).join("\n")}` : "";
    throw new UserError(`worktree.setup "${command}" failed (${how}); no step ran. Output: ${logFile}${tail}`, {
      exitCode: 1,
      fix: "fix the command (it runs in the run's worktree) and run again; setup is retried until it succeeds once",
    });
  }
  return Math.round(performance.now() - started);
}

/** What git sees as untracked in the lane (folders as `dir/`), relative to the repository's top. */
async function untracked(workdir: string): Promise<string[]> {
  const listed = await git(workdir, ["ls-files", "-z", "--others", "--exclude-standard", "--directory", "--no-empty-directory", "--full-name"]);
  return splitNul(listed.stdout);
}

/** Set up for these inputs: the lockfiles it was given, or the ones its setup left (a lockfile it wrote). */
function isDone(record: SetupRecord | undefined, command: string, tree: string, inputs: string): boolean {
  return record?.command === command && record.tree === tree && record.exitCode === 0 && (record.inputs === inputs || record.after === inputs);
}

function inputsOf(opts: ProvisionOptions, command: string): string {
  return setupInputs(inputDirs(opts.workdir, opts.lane), command);
}

/** Where the lockfiles are looked for: the project folder, and the lane's top when the project is below it. */
function inputDirs(workdir: string, lane: LaneId | undefined): string[] {
  return lane === undefined ? [workdir] : [workdir, path.join(lane.home, `lane-${lane.n}`)];
}

/** Written to a temporary name and renamed: a record is whole or absent, never torn. */
function writeRecord(file: string, record: SetupRecord): void {
  writeFileAtomicSync(file, JSON.stringify(record) + "\n", { fsync: false });
}

function readRecord(file: string): SetupRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SetupRecord;
  } catch {
    return undefined;
  }
}

/** A lane's setup under way, for the lanes that need the same inputs meanwhile: they wait for it
 *  and copy from it, and it is handed to its step only once those copies are done (a step that
 *  writes node_modules/.cache while it is copied would make the copies differ). */
interface Flight {
  n: number;
  done: Promise<boolean>;
  holds: Promise<void>[];
}

const flights = new Map<string, Flight>();

interface Takeoff {
  land(ok: boolean): Promise<void>;
  /** Something else the lane waits for, once its setup has succeeded, before its step has it. */
  hold(work: Promise<unknown>): void;
}

function takeOff(home: string, n: number, inputs: string): Takeoff {
  const key = `${home}\0${inputs}`;
  let settle: (ok: boolean) => void = () => undefined;
  const flight: Flight = { n, done: new Promise<boolean>((resolve) => (settle = resolve)), holds: [] };
  flights.set(key, flight);
  let landed = false;
  return {
    async land(ok) {
      if (landed) return;
      landed = true;
      if (flights.get(key) === flight) flights.delete(key);
      settle(ok);
      if (ok) await Promise.allSettled(flight.holds);
    },
    hold(work) {
      flight.holds.push(work.then(() => undefined, () => undefined));
    },
  };
}

/** `WS_LANE_SEED`: `setup` runs the setup in every lane (no copy), `copy` copies without cloning; else both as the file system allows. */
function seedMode(env: NodeJS.ProcessEnv): "auto" | "copy" | "setup" {
  return env.WS_LANE_SEED === "setup" || env.WS_LANE_SEED === "copy" ? env.WS_LANE_SEED : "auto";
}

type Seeded = { how: CloneKind; from: string; ms: number; setupMs: number | undefined };

/**
 * Gives the lane the ignored files of a sibling set up for the same inputs (waiting for one being
 * set up now), or, when there is none, the flight this lane's own setup is (so that the lanes that
 * come meanwhile wait for it). Nothing when seeding is off (WS_LANE_SEED=setup).
 */
async function seedFromLane(opts: ProvisionOptions, lane: LaneId, command: string, inputs: string, logFile: string, notes: string[]): Promise<Seeded | { flight?: Takeoff }> {
  const mode = seedMode(opts.env);
  if (mode === "setup") return {};
  const flight = flights.get(`${lane.home}\0${inputs}`);
  let release = (): void => undefined;
  if (flight !== undefined) {
    flight.holds.push(new Promise<void>((resolve) => (release = resolve)));
    await flight.done;
  }
  try {
    const source = findSource(opts, lane, command, inputs);
    // Checked and taken in one go (no await between): two lanes never both set up for the same inputs.
    if (source === undefined) return opts.seedOnly ? {} : { flight: takeOff(lane.home, lane.n, inputs) };
    const clone = mode === "auto" && (await cloneSupport(lane.home));
    if (!clone && source.slowCopy !== undefined) {
      notes.push(`worktree.setup: a plain copy of a set-up lane's ignored files took ${formatDuration(source.slowCopy.copyMs)}, longer than "${command}" (${formatDuration(source.slowCopy.setupMs)}); new lanes run the setup instead`);
      return {};
    }
    const paths = await ignoredEntries(source.workdir, [...opts.settings.copy, ...opts.settings.link]);
    if (paths.length === 0) return {};
    const check = flight === undefined || flight.n !== source.n;
    const result = await seedLane({ from: source.workdir, to: opts.workdir, paths, clone, check, signal: opts.signal }).catch((error: unknown) => {
      if (!opts.signal?.aborted) throw error;
      throw new UserError(`worktree.setup: copying lane-${source.n}'s ignored files into lane-${lane.n} was cancelled; no step ran`, { exitCode: 130 });
    });
    const copied = `${result.copied.join(", ")} from ${source.workdir} (${result.how === "reflink" ? "copy-on-write clone" : "plain copy"}, ${formatDuration(result.ms)})`;
    if (result.unequal.length > 0) {
      fs.appendFileSync(logFile, `ws: copied ${copied}, but ${result.unequal.length} file(s) changed there meanwhile (${result.unequal.slice(0, 3).join(", ")}); running the setup instead\n`);
      notes.push(`worktree.setup: lane-${source.n}'s ignored files kept changing while they were copied (a step is writing there: ${result.unequal[0] ?? ""}); lane-${lane.n} ran "${command}" instead`);
      return {};
    }
    const [fromRoot, toRoot] = [source.n, lane.n].map((m) => path.join(lane.home, `lane-${m}`)) as [string, string];
    relocateVenvs(opts.workdir, result.copied, fromRoot, toRoot);
    fs.appendFileSync(logFile, `ws: copied ${copied}; "${command}" not run${result.skipped.length > 0 ? `; left out (tracked in this lane, or its folder is not here): ${result.skipped.join(", ")}` : ""}\n`);
    notes.push(seedNote(result.how, mode, lane.home, paths, command));
    return { how: result.how, from: source.workdir, ms: Math.round(result.ms), setupMs: source.setupMs };
  } finally {
    release();
  }
}

/** Said once a run (the same words for every lane): how new lanes got their files, and where no clone could be had, why. */
function seedNote(how: CloneKind, mode: "auto" | "copy", home: string, paths: readonly string[], command: string): string {
  const what = paths.length > 3 ? `${paths.slice(0, 3).join(", ")}, …` : paths.join(", ");
  const by =
    how === "reflink" ? "as copy-on-write clones"
    : mode === "copy" ? "by a plain copy (WS_LANE_SEED=copy)"
    : `by a plain copy (the file system of ${home} has no copy-on-write clone, cp --reflink)`;
  return `worktree.setup: new lanes get a set-up lane's ignored files (${what}) ${by} instead of running "${command}" again; it runs again in a lane when a lockfile or the command changes`;
}

/** A copy measured clearly slower than the setup it stood for (not by the noise of a loaded machine). */
function slower(copyMs: number, setupMs: number): boolean {
  return copyMs > setupMs * 1.25 && copyMs > setupMs + 500;
}

interface Source {
  n: number;
  workdir: string;
  setupMs: number | undefined;
  /** A plain copy into a sibling that took longer than the setup it replaced. */
  slowCopy: { copyMs: number; setupMs: number } | undefined;
}

/** The lowest sibling lane set up for these inputs whose lockfiles are still the ones it was set up for. */
function findSource(opts: ProvisionOptions, lane: LaneId, command: string, inputs: string): Source | undefined {
  const own = path.join(lane.home, `lane-${lane.n}`);
  const inside = path.relative(own, opts.workdir);
  const siblings = fs.readdirSync(lane.home).map((name) => /^lane-(\d+)$/.exec(name)?.[1]).filter((m) => m !== undefined).map(Number).filter((m) => m !== lane.n).sort((a, b) => a - b);
  let slowCopy: Source["slowCopy"];
  let source: Source | undefined;
  for (const m of siblings) {
    const record = readRecord(path.join(path.dirname(opts.stateDir), `lane-${m}`, "setup.json"));
    if (record?.how === "copy" && record.ms !== undefined && record.setupMs !== undefined && slower(record.ms, record.setupMs)) slowCopy = { copyMs: record.ms, setupMs: record.setupMs };
    const workdir = path.join(lane.home, `lane-${m}`, inside);
    if (source !== undefined || !isDone(record, command, workdir, inputs)) continue;
    // A step there may have changed a lockfile since (and installed what it names).
    if (!fs.existsSync(workdir) || !isDone(record, command, workdir, setupInputs(inputDirs(workdir, { home: lane.home, n: m }), command))) continue;
    source = { n: m, workdir, setupMs: record?.setupMs, slowCopy: undefined };
  }
  return source === undefined ? undefined : { ...source, slowCopy };
}
