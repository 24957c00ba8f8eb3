import { printedReasons } from "../helpers/reasons.js";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isGone, waitGone } from "../helpers/processes.js";

export { isGone };

/**
 * The rig of the run-engine integration tests: a temp project holding workstreams written as
 * objects, the built binary (`npx tsc -p tsconfig.json` first; `npm test` builds it), and the
 * record.mjs fixture, whose lines say which step started and ended when, in which process group.
 */

// WS_RUN_TEST_BIN points the tests at a copy of the binary (used to check that they fail against a
// deliberately broken engine without touching the shared checkout).
export const BIN = process.env.WS_RUN_TEST_BIN ?? fileURLToPath(new URL("../../bin/ws.js", import.meta.url));
export const RECORD_FIXTURE = fileURLToPath(new URL("../fixtures/run/record.mjs", import.meta.url));

export interface Project {
  dir: string;
  /** The record.mjs log of this project. */
  record: string;
  /** The workstream's state folder (.worktrees/<id>). */
  state(wsId: string): string;
}

const projects: string[] = [];
const children: ChildProcess[] = [];

export function makeProject(workstreams: object[]): Project {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-run-")));
  projects.push(dir);
  for (const ws of workstreams) writeWorkstream(dir, ws);
  return { dir, record: path.join(dir, "record.jsonl"), state: (wsId) => path.join(dir, ".worktrees", wsId) };
}

export function writeWorkstream(dir: string, ws: object): void {
  const id = (ws as { id: string }).id;
  fs.mkdirSync(path.join(dir, "workstreams"), { recursive: true });
  fs.writeFileSync(path.join(dir, "workstreams", `${id}.json`), JSON.stringify(ws, null, 2) + "\n");
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
  // A clean environment: no CI, no colour settings, nothing from the developer's shell.
  return { PATH: process.env.PATH, HOME: process.env.HOME, RECORD: project.record, ...extra };
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function ws(project: Project, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Result {
  // Killed before vitest's 60 s test timeout, so a hung run fails its test with what it printed.
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: project.dir, encoding: "utf8", env: env(project, extraEnv), timeout: 50_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export interface Running {
  child: ChildProcess;
  pid: number;
  done: Promise<Result>;
}

/** Starts ws in the background (for signals, locks and reading a run in progress). */
export function wsAsync(project: Project, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: project.dir, env: env(project, extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<Result>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  if (child.pid === undefined) throw new Error("ws did not start");
  return { child, pid: child.pid, done };
}

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
  steps: Record<string, { state: string; reason?: string; attempts: number; log?: string; selected: boolean }>;
  interrupted?: boolean;
}

export function readState(project: Project, wsId: string): StateJson {
  return JSON.parse(fs.readFileSync(path.join(project.state(wsId), "state.json"), "utf8"), printedReasons) as StateJson;
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
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const dir of projects.splice(0)) {
    const record = path.join(dir, "record.jsonl");
    if (fs.existsSync(record)) {
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
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
