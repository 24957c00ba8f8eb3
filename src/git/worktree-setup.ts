import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import { formatDuration } from "../format/duration.js";
import type { WorktreeSettings } from "../workstream/model.js";
import { git } from "./run-git.js";

/** What the run's worktree was given beyond its checkout (for the run header). */
interface Provisioned {
  notes: string[];
}

interface SetupRecord {
  command: string;
  tree: string;
  at: string;
  exitCode: number;
}

/**
 * Brings into the run's worktree what git ignores but the steps need: `copy` entries are copied
 * afresh each run (an edited `.env` reaches the next run), `link` entries are symlinks to the
 * project's own folder (one node_modules for both), and `setup` runs once per worktree: its success
 * is recorded in `<state>/setup.json` and it runs again only when the tree is new or the command
 * changed. Its output goes to `<state>/setup.log`. Paths are relative to the project folder and
 * were checked by the schema (relative, no `..`).
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
  const setupNote = settings.setup === undefined ? undefined : await runSetup(opts, settings.setup);
  if (setupNote !== undefined) notes.push(setupNote);
  return { notes };
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

/** A note when setup ran; nothing when it had already run here (said every run, for every worktree, it was noise). */
async function runSetup(opts: Parameters<typeof provisionWorktree>[0], command: string): Promise<string | undefined> {
  const recordFile = path.join(opts.stateDir, "setup.json");
  const logFile = path.join(opts.stateDir, "setup.log");
  if (opts.created) fs.rmSync(recordFile, { force: true });
  const record = readRecord(recordFile);
  if (record?.command === command && record.tree === opts.workdir && record.exitCode === 0) return undefined;
  fs.rmSync(logFile, { force: true });
  const { runProcess } = await import("../proc/run-process.js");
  const env = Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined));
  const result = await runProcess({ command: "/bin/sh", args: ["-c", command], cwd: opts.workdir, env, logFile, signal: opts.signal, timeoutMs: opts.timeoutMs, tailLines: 20 });
  if (result.outcome !== "exited" || result.exitCode !== 0) {
    const how =
      result.outcome === "exited" ? `exit ${result.exitCode ?? "?"}`
      : result.outcome === "spawn_error" ? (result.error ?? "spawn error")
      : result.outcome === "timeout" ? `timed out after ${formatDuration(opts.timeoutMs ?? 0)}, execution.timeout_per_step`
      : result.outcome;
    const tail = result.tail.length > 0 ? `\n${result.tail.map((l) => `  | ${l}`).join("\n")}` : "";
    throw new UserError(`worktree.setup "${command}" failed (${how}); no step ran. Output: ${logFile}${tail}`, {
      exitCode: result.outcome === "cancelled" ? 130 : 1,
      fix: "fix the command (it runs in the run's worktree) and run again; setup is retried until it succeeds once",
    });
  }
  const done: SetupRecord = { command, tree: opts.workdir, at: new Date().toISOString(), exitCode: 0 };
  fs.writeFileSync(recordFile, JSON.stringify(done) + "\n");
  return `worktree.setup "${command}" ran in the worktree (output: ${logFile})`;
}

function readRecord(file: string): SetupRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SetupRecord;
  } catch {
    return undefined;
  }
}
