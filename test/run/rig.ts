import { printedReasons } from "../helpers/reasons.js";
import { readState as readSnapshot } from "../../src/store/snapshot.js";
import fs from "node:fs";
import { git } from "../git/make-repo.js";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isGone, waitGone } from "../helpers/processes.js";
import { BIN, cleanEnv, killStartedWs, removeTempProjects, startWs, tempProject, ws as runWs, writeWorkstream as writeDoc, type RunningWs, type WsResult } from "../helpers/cli.js";

export { isGone };

/**
 * The rig of the run-engine integration tests: a temp project holding workstreams written as
 * objects, the built binary (`npx tsc -p tsconfig.json` first; `npm test` builds it), and the
 * record.mjs fixture, whose lines say which step started and ended when, in which process group.
 */

export { BIN };
export const RECORD_FIXTURE = fileURLToPath(new URL("../fixtures/run/record.mjs", import.meta.url));

export interface Project {
  dir: string;
  /** The record.mjs log of this project. */
  record: string;
  /** The workstream's state folder (.worktrees/<id>). */
  state(wsId: string): string;
}


export function makeProject(workstreams: object[]): Project {
  const dir = tempProject("ws-run-", workstreams as Array<{ id: string }>);
  return { dir, record: path.join(dir, "record.jsonl"), state: (wsId) => path.join(dir, ".worktrees", wsId) };
}

/** A project in a fresh git repository (branch main, a test identity) whose first commit holds its files. */
export function gitProject(workstreams: object[], files: Record<string, string> = {}): Project {
  const project = makeProject(workstreams);
  for (const [file, content] of Object.entries({ "README.md": "# p\n", ...files })) {
    fs.mkdirSync(path.dirname(path.join(project.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(project.dir, file), content);
  }
  git(project.dir, "init", "-q", "-b", "main");
  git(project.dir, "config", "user.name", "T");
  git(project.dir, "config", "user.email", "t@example.com");
  git(project.dir, "add", "-A");
  git(project.dir, "commit", "-q", "-m", "initial");
  return project;
}

export function writeWorkstream(dir: string, ws: object): void {
  writeDoc(dir, ws as { id: string });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command line of a shell step that runs record.mjs (options as in the fixture's header). */
export function rec(id: string, ...options: Array<string | number>): string {
  return [process.execPath, RECORD_FIXTURE, id, ...options.map(String)].map(q).join(" ");
}

/** A shell step running record.mjs. */
export function recStep(id: string, options: Array<string | number> = [], extra: object = {}): object {
  return { id, run: rec(id, ...options), ...extra };
}

function env(project: Project, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return cleanEnv({ RECORD: project.record, ...extra });
}

export type Result = WsResult;

export function ws(project: Project, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Result {
  return runWs(args, { cwd: project.dir, env: env(project, extraEnv) });
}

export type Running = RunningWs;

/** Starts ws in the background (for signals, locks and reading a run in progress). */
export function wsAsync(project: Project, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Running {
  return startWs(args, { cwd: project.dir, env: env(project, extraEnv) });
}

/** `ws ARGS` without blocking the event loop, so concurrent tests overlap their waits. */
export const wsc = (project: Project, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> => wsAsync(project, args, env).done;

export interface RecordLine {
  id: string;
  event: "start" | "end" | "grandchild" | "wait-timeout";
  t: number;
  pid: number;
  pgid: number;
  n: number;
  code?: number;
  child?: number;
  what?: string;
}

export function readRecord(project: Project): RecordLine[] {
  if (!fs.existsSync(project.record)) return [];
  return fs
    .readFileSync(project.record, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RecordLine);
}

export interface EventLine {
  type: string;
  at: string;
  step?: string;
  [key: string]: unknown;
}

/** With `printed` (the default) reasons read as `ws status` prints them; without, as stored. */
export function readEvents(project: Project, wsId: string, options = { printed: true }): EventLine[] {
  return fs
    .readFileSync(path.join(project.state(wsId), "events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => (options.printed ? JSON.parse(l, printedReasons) : JSON.parse(l)) as EventLine);
}

export interface StateJson {
  status: string;
  exitCode?: number;
  pid: number;
  steps: Record<string, { state: string; reason?: string; attempts: number; interrupted?: number; log?: string; selected: boolean }>;
  interrupted?: boolean;
}

/** Through ws's own reader: state.json leaves out the records of steps never selected nor run. */
export function readState(project: Project, wsId: string): StateJson {
  const state = readSnapshot(path.join(project.state(wsId), "state.json"));
  if (!state) throw new Error(`no readable state.json for ${wsId}`);
  return JSON.parse(JSON.stringify(state), printedReasons) as StateJson;
}

/** The most steps running at once, from lines in the order they were written. */
export function maxOverlap<T>(lines: T[], isStart: (l: T) => boolean, isEnd: (l: T) => boolean): number {
  let running = 0;
  let max = 0;
  for (const line of lines) {
    if (isStart(line)) max = Math.max(max, ++running);
    else if (isEnd(line)) running--;
  }
  return max;
}

/** Polls until `probe` returns something; the limit is a safety net, never a speed assertion. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, limitMs = 45_000): Promise<T> {
  for (let waited = 0; waited < limitMs; waited += 25) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`waitFor: gave up waiting for ${what}`);
}

/** Waits for a killed process to disappear (reaping is asynchronous) and says whether it did. */
export const gone = (pid: number): Promise<boolean> => waitGone(pid, 10_000);

function ownGroup(): number {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** After each test: kill what a failed test may have left running, delete the temp projects. */
export function cleanup(): void {
  killStartedWs();
  removeTempProjects((dir) => {
    const record = path.join(dir, "record.jsonl");
    if (!fs.existsSync(record)) return;
    for (const line of fs.readFileSync(record, "utf8").split("\n").filter(Boolean)) {
      const { pgid, child } = JSON.parse(line) as RecordLine;
      for (const target of [-pgid, child]) {
        // Never our own group (a step's group is its own: ws spawns it detached).
        if (target === undefined || Math.abs(target) <= 1 || target === -ownGroup()) continue;
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Live (non-zombie) processes whose process group is `pgid`, from /proc. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(group) === pgid && state !== "Z") members.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return members;
}

/** Waits (safety net only) until no live process is left in the group; returns the survivors. */
export async function groupSurvivors(pgid: number): Promise<number[]> {
  try {
    await waitFor(`group ${pgid} to empty`, () => groupMembers(pgid).length === 0, 10_000);
  } catch {
    // reported below
  }
  return groupMembers(pgid);
}
