import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import { infoNote } from "../events/note-level.js";
import type { WorktreeSettings } from "../workstream/model.js";
import type { UserInfo } from "./lane-git-dir.js";
import { farmNodeModules, needsFarm } from "./lane-node.js";
import { isPythonProject, pythonLaneEnv, pythonRoots, writePythonHook, type PythonLane } from "./lane-python.js";
import { git } from "./run-git.js";
import { writeFileAtomicSync } from "../store/atomic-write.js";

/**
 * The project's environment in every lane (issue 33). Projects keep their environment in the
 * checkout, ignored by git: a Python virtual environment (`.venv`, `venv`, the one VIRTUAL_ENV
 * names; known by its `pyvenv.cfg`) and `node_modules`. A lane is a fresh checkout, so without
 * them `.venv/bin/python -m pytest` ends "not found" (exit 127). ws links each into every lane
 * (a symlink to the checkout's folder): measured on examples/python-ci, a copy of its 133 MB,
 * 5 000-file venv takes 1.2 s per lane on ext4 (no reflink) against well under a millisecond for
 * the link, and steps use an environment read-only. `worktree` settings override it: a path named
 * in `worktree.copy` or `worktree.link` is brought as they say, and a `worktree.setup` means the
 * setup makes the lane's environment (ws links none by itself then).
 *
 * Whatever ws brings (these links and the settings' copies and links) is excluded in the lane's
 * own `info/exclude`, whatever the user's pattern (`.venv/` with a slash matches no symlink), so
 * git never sees it as the step's work and the sweep of leftovers never saves or removes it.
 */

export type EnvKind = "python" | "node";

export interface LaneEnvEntry {
  /** Relative to the repository's top (the lane's root), `/`-separated. */
  rel: string;
  kind: EnvKind;
}

export interface LaneEnvPlan {
  gitRoot: string;
  projectDir: string;
  /** What ws links into every lane by itself. */
  entries: LaneEnvEntry[];
  /** Environments found in the checkout that ws does not link this run (a setup makes them): a link an earlier run made there is removed. */
  unlinked: LaneEnvEntry[];
  /** Everything ws brings into a lane (its own entries and worktree.copy/link) and every environment the checkout ignores, relative to the lane's root: excluded there. */
  brought: string[];
  /**
   * What `worktree.setup` left untracked that the project does not ignore (`.venv/` without a
   * .gitignore entry), relative to the lane's root: excluded there too, and kept for the next runs
   * (setupMadeFile), whatever the command is by then. Like the ignored files a setup makes, it
   * stays in the lanes when the command changes (the new one runs over it), rather than being
   * saved as a step's leftovers: a patch of a venv is of no use to anyone.
   */
  setupMade: string[];
  /** Absolute paths in the checkout that hold environments (a venv may sit in the checkout: never mapped to the lane). */
  envPaths: string[];
  python: PythonLane | undefined;
  /** For the run header, said once. */
  notes: string[];
}

const PYTHON_CANDIDATES = [".venv", "venv"];
const NODE_CANDIDATES = ["node_modules"];

/** What the lanes of this run get; writes ws's Python hook into the state folder when the project is Python. */
export async function planLaneEnv(opts: { gitRoot: string; projectDir: string; settings?: WorktreeSettings | undefined; env: NodeJS.ProcessEnv; stateDir: string }): Promise<LaneEnvPlan> {
  const { gitRoot, projectDir } = opts;
  const settings = opts.settings ?? { copy: [], link: [], setup: undefined };
  const projectRel = path.relative(gitRoot, projectDir).split(path.sep).join("/");
  const inLane = (projectRelative: string) => path.posix.normalize(projectRel === "" ? projectRelative : `${projectRel}/${projectRelative}`);
  const found = await environments(gitRoot, projectDir, opts.env);
  const named = new Set([...settings.copy, ...settings.link].map(inLane));
  const notes: string[] = [];
  let entries = found.filter((e) => !named.has(e.rel));
  if (settings.setup !== undefined && entries.length > 0) {
    notes.push(infoNote(`worktree.setup is set, so ws links none of the environments in your checkout into the lanes (${entries.map((e) => e.rel).join(", ")}): the setup makes each lane's own; name one in worktree.link to share it`));
    entries = [];
  }
  const python = isPythonProject(projectDir) ? { roots: pythonRoots(projectDir), hookDir: path.join(opts.stateDir, "lane-env", "python") } : undefined;
  if (python) writePythonHook(python.hookDir);
  if (entries.length > 0) notes.push(infoNote(linkedNote(entries, python)));
  // The checkout ignores every one found: so does the lane, whether ws links it or a setup makes it.
  const brought = [...new Set([...found.map((e) => e.rel), ...named])];
  const envPaths = [...found.map((e) => path.join(gitRoot, e.rel)), ...[...named].map((rel) => path.join(gitRoot, rel)).filter(isEnvironment)];
  const unlinked = found.filter((e) => !entries.includes(e) && !named.has(e.rel));
  const setupMade = settings.setup === undefined ? [] : readSetupMade(opts.stateDir);
  return { gitRoot, projectDir, entries, unlinked, brought, setupMade, envPaths, python, notes };
}

function setupMadeFile(stateDir: string): string {
  return path.join(stateDir, "lane-env", "setup-made.json");
}

/** What a setup was seen to leave in the lanes by an earlier run. */
function readSetupMade(stateDir: string): string[] {
  try {
    const saved = JSON.parse(fs.readFileSync(setupMadeFile(stateDir), "utf8")) as { paths?: unknown };
    return Array.isArray(saved.paths) ? saved.paths.filter((p): p is string => typeof p === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Adds what a lane's setup left untracked to the plan (every lane excludes it from now on) and
 * keeps it for the next runs.
 */
export function addSetupMade(plan: LaneEnvPlan, stateDir: string, made: readonly string[]): void {
  const added = made.map((entry) => entry.replace(/\/$/, "")).filter((entry) => !plan.setupMade.includes(entry));
  if (added.length === 0) return;
  plan.setupMade.push(...added);
  const file = setupMadeFile(stateDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, JSON.stringify({ paths: plan.setupMade }) + "\n", { fsync: false });
}

function linkedNote(entries: LaneEnvEntry[], python: PythonLane | undefined): string {
  const what = entries.map((e) => `${e.rel} (${e.kind === "python" ? "Python venv" : "Node packages, the lane's own workspace packages"})`).join(", ");
  const code = python ? `; each lane imports its own code first (PYTHONPATH=${python.roots.join(path.delimiter)} of the lane, editable installs pointed at the lane)` : "";
  return `linked your checkout's ${what} into each lane${code}. A step that installs packages would change yours: give lanes their own with worktree.copy or worktree.setup`;
}

/** The environments in the checkout, ignored by git: at the project folder and, below the top of the repository, at its top. */
async function environments(gitRoot: string, projectDir: string, env: NodeJS.ProcessEnv): Promise<LaneEnvEntry[]> {
  const tops = [...new Set([projectDir, gitRoot])];
  const candidates: LaneEnvEntry[] = [];
  const add = (abs: string, kind: EnvKind) => {
    const rel = path.relative(gitRoot, abs).split(path.sep).join("/");
    if (rel !== "" && !rel.startsWith("..") && !candidates.some((c) => c.rel === rel)) candidates.push({ rel, kind });
  };
  // The venv the user has activated, when it lives in the project (wherever else, a lane can use it as it is).
  const virtualEnv = env.VIRTUAL_ENV ? realOrResolved(env.VIRTUAL_ENV) : undefined;
  if (virtualEnv !== undefined && isInside(virtualEnv, projectDir) && isVenv(virtualEnv)) add(virtualEnv, "python");
  for (const top of tops) {
    for (const name of PYTHON_CANDIDATES) if (isVenv(path.join(top, name))) add(path.join(top, name), "python");
    for (const name of NODE_CANDIDATES) if (isDir(path.join(top, name))) add(path.join(top, name), "node");
  }
  if (candidates.length === 0) return [];
  const ignored = await ignoredInCheckout(gitRoot, candidates.map((c) => c.rel));
  return candidates.filter((c) => ignored.has(c.rel));
}

/** Which of `paths` git ignores in the checkout (a tracked one is not ignored: the lane has it already). */
async function ignoredInCheckout(gitRoot: string, paths: string[]): Promise<Set<string>> {
  // check-ignore refuses the literal-pathspec mode ws's git calls run in.
  const input = paths.map((p) => `${p}\0`).join("");
  const result = await git(gitRoot, ["check-ignore", "--stdin", "-z"], { input, allowFailure: true, env: { GIT_LITERAL_PATHSPECS: "0" } });
  return new Set(result.stdout.toString("utf8").split("\0").filter(Boolean));
}

/** The user's info files for a lane, its `exclude` ending with what ws brought (anchored, so a symlink matches too). */
export function withLaneExcludes(info: UserInfo, plan: LaneEnvPlan | undefined): UserInfo {
  if (plan === undefined || plan.brought.length + plan.setupMade.length === 0) return info;
  const before = info.get("exclude")?.toString("utf8") ?? "";
  const anchored = (paths: readonly string[]) => paths.map((rel) => `/${rel.replace(/([\\*?[\] !#])/g, "\\$1")}\n`).join("");
  const brought = plan.brought.length > 0 ? `# brought into this lane by ws (see lane-env.ts)\n${anchored(plan.brought)}` : "";
  const made = plan.setupMade.length > 0 ? `# made by worktree.setup, which your .gitignore does not ignore\n${anchored(plan.setupMade)}` : "";
  const text = `${before}${before === "" || before.endsWith("\n") ? "" : "\n"}${brought}${made}`;
  return new Map([...info, ["exclude", Buffer.from(text)]]);
}

/**
 * Links ws's own entries into a lane (node_modules as a folder of links, see lane-node.ts) (a real
 * file or folder already there is left as it is). Returns what it could not link, and whether it
 * changed anything in the lane (a lane an earlier run linked already is left exactly as it was).
 */
export function provideLaneEnv(plan: LaneEnvPlan, laneRoot: string): { notes: string[]; changed: boolean } {
  const notes: string[] = [];
  let changed = false;
  for (const entry of plan.unlinked) {
    // A setup that makes the lane's own (python -m venv .venv) would write through ws's old link into the user's.
    const to = path.join(laneRoot, entry.rel);
    if (fs.lstatSync(to, { throwIfNoEntry: false })?.isSymbolicLink() && fs.readlinkSync(to) === path.join(plan.gitRoot, entry.rel)) {
      fs.rmSync(to);
      changed = true;
    }
  }
  for (const entry of plan.entries) {
    if (entry.kind === "node" && needsFarm(plan.gitRoot, laneRoot, entry.rel)) {
      farmNodeModules(plan.gitRoot, laneRoot, entry.rel);
      changed = true;
      continue;
    }
    const from = path.join(plan.gitRoot, entry.rel);
    const to = path.join(laneRoot, entry.rel);
    const existing = fs.lstatSync(to, { throwIfNoEntry: false });
    if (existing?.isSymbolicLink()) {
      if (fs.readlinkSync(to) === from) continue;
      fs.rmSync(to);
    } else if (existing !== undefined) {
      notes.push(`${entry.rel} is a real folder in ${laneRoot} (a step or a setup made it); left as it is`);
      continue;
    }
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.symlinkSync(from, to);
    changed = true;
  }
  return { notes, changed };
}

/** The variables every process of a step in this lane gets (none for a project that is not Python); see withLaneVariables. */
export function laneVariables(plan: LaneEnvPlan | undefined, laneRoot: string): Record<string, string> | undefined {
  if (plan?.python === undefined) return undefined;
  const laneProject = path.join(laneRoot, path.relative(plan.gitRoot, plan.projectDir));
  return pythonLaneEnv(plan.python, laneProject, plan.gitRoot, laneRoot, plan.envPaths);
}

const PYTHON_INSTALL = /\b(?:pip3?|uv|poetry|pdm|pipenv|hatch|rye)\b[^;&|\n]*\b(?:install|sync|add|remove|uninstall|develop|lock)\b|\bsetup\.py\s+(?:develop|install)\b/;
const NODE_INSTALL = /\b(?:npm|pnpm|yarn|bun)\b(?:\s+-\S+)*\s+(?:i|install|ci|add|remove|uninstall|update|upgrade|link)\b|^\s*(?:yarn|pnpm|bun)\s*$/;

/**
 * A `worktree.setup` that would install into an environment linked from the checkout: it would
 * change the user's own (`pip install -e .` re-points their venv at a hidden lane). Refused
 * before anything runs (exit 2).
 */
export function refuseSetupIntoLinks(settings: WorktreeSettings | undefined, plan: LaneEnvPlan | undefined): void {
  const setup = settings?.setup;
  if (setup === undefined || plan === undefined) return;
  for (const entry of settings?.link ?? []) {
    const abs = path.join(plan.projectDir, entry);
    const kind = isVenv(abs) ? "python" : path.basename(entry) === "node_modules" ? "node" : undefined;
    if (kind === undefined || !(kind === "python" ? PYTHON_INSTALL : NODE_INSTALL).test(setup)) continue;
    throw new UserError(`worktree.setup "${setup}" would install into ${entry}, which worktree.link shares with your checkout: it would change your own environment${kind === "python" ? " (an editable install would point your venv at a hidden lane)" : ""}`, {
      fix: `drop ${entry} from worktree.link and let the setup make the lane's own (e.g. ${kind === "python" ? '"python3 -m venv .venv && .venv/bin/pip install -e ."' : '"npm ci"'}), or copy it with worktree.copy`,
    });
  }
}

/** What of a linked environment a setup could change: its installed packages (names, sizes, times). */
export function environmentStamp(plan: LaneEnvPlan | undefined): string {
  if (plan === undefined) return "";
  return plan.envPaths.map((p) => `${p}:${stampOf(p)}`).join("\n");
}

function stampOf(envPath: string): string {
  const dirs = isVenv(envPath) ? sitePackages(envPath) : [envPath];
  return dirs.map((dir) => {
    try {
      return fs.readdirSync(dir).sort().map((name) => {
        const s = fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false });
        return `${name}/${s?.size ?? 0}/${s?.mtimeMs ?? 0}`;
      }).join(",");
    } catch {
      return "";
    }
  }).join(";");
}

function sitePackages(venv: string): string[] {
  const lib = path.join(venv, "lib");
  try {
    return fs.readdirSync(lib).filter((d) => d.startsWith("python")).map((d) => path.join(lib, d, "site-packages"));
  } catch {
    return [];
  }
}

/**
 * A hint for a step that ended "not found" (exit 127) on a path the lane lacks but the checkout
 * has, ignored by git: the setting that brings it. Undefined when that is not the case.
 */
export function missingPathHint(tail: readonly string[], laneWorkdir: string, plan: LaneEnvPlan | undefined): string | undefined {
  if (plan === undefined) return undefined;
  for (const line of tail) {
    const m = /^(?:\/bin\/)?(?:sh|bash|dash|zsh)?[^:]*:\s*(?:\d+:\s*|line \d+:\s*)?([^\s:]+): (?:not found|No such file or directory|command not found)$/.exec(line.trim());
    const missing = m?.[1];
    if (missing === undefined || path.isAbsolute(missing) || missing.split("/").includes("..")) continue;
    const top = missing.split("/")[0] ?? missing;
    if (fs.existsSync(path.join(laneWorkdir, top)) && fs.existsSync(path.join(laneWorkdir, missing))) continue;
    if (!fs.existsSync(path.join(plan.projectDir, missing))) continue;
    return `${missing} exists in your checkout (${top} is ignored by git) but not in the lane: bring it into every lane with "worktree": { "link": ["${top}"] } (shared), "copy" (a copy per lane) or "setup" (a command that makes it)`;
  }
  return undefined;
}

export function isVenv(dir: string): boolean {
  return fs.existsSync(path.join(dir, "pyvenv.cfg"));
}

function isEnvironment(abs: string): boolean {
  return isVenv(abs) || path.basename(abs) === "node_modules";
}

function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function isInside(p: string, top: string): boolean {
  return p === top || p.startsWith(top + path.sep);
}
