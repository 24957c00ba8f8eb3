import { printedReasons } from "../helpers/reasons.js";
import { removeTempProjects, startWs, tempProject, tempProjects, writeWorkstream, ws as runWs, type RunningWs } from "../helpers/cli.js";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isGone, waitFor, waitGone } from "../proc/helpers.js";

export { isGone, waitFor, waitGone };

// The built binary (`npx tsc -p tsconfig.json` first; `npm test` builds it) is run through test/helpers/cli.ts.
export const FAULT_FIXTURES = fileURLToPath(new URL("../fixtures/faults/", import.meta.url));
export const PROC_FIXTURES = fileURLToPath(new URL("../fixtures/proc/", import.meta.url));
/** The marker-driven step of the suite: `sh step.sh NAME` (see the script). */
export const STEP = path.join(FAULT_FIXTURES, "step.sh");
export const step = (name: string) => `sh ${STEP} ${name}`;


/** A temp project with `workstreams/<id>.json` for each workstream given as an object. */
export function project(workstreams: Array<{ id: string } & Record<string, unknown>> = []): string {
  const dir = tempProject("ws-faults-", workstreams);
  fs.mkdirSync(path.join(dir, "workstreams"), { recursive: true });
  return dir;
}

export { writeWorkstream };

export function removeProjects(): void {
  removeTempProjects(killRecorded);
}

/**
 * Safety net after a failed assertion: kill, by pid, every process the step fixture recorded in
 * `dir` that still runs and still is that fixture (a pid can be reused by someone else's process).
 */
export function killRecorded(dir: string): void {
  for (const { pid } of recordedPids(dir)) killIfStill(pid, ["step.sh", "sleep 300"]);
}

/** Kill pid (its group if it leads one) only while its command line still contains one of `marks`. */
export function killIfStill(pid: number, marks: string[]): void {
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return;
  }
  if (marks.some((m) => cmdline.includes(m))) killGroupQuietly(pid);
}

function baseEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // CI=1: plain lines, no spinner. No inherited FAULT_* switches. WS_SPAWN is passed on: CI runs
  // this suite again with WS_SPAWN=perl and WS_SPAWN=direct, which must reach the ws under test;
  // and with WS_BWRAP=none (bubblewrap hidden, as on macOS), which must too.
  return { PATH: process.env.PATH, HOME: process.env.HOME, WS_WORKTREES_DIR: process.env.WS_WORKTREES_DIR, NO_COLOR: "1", CI: "1", WS_SPAWN: process.env.WS_SPAWN, WS_BWRAP: process.env.WS_BWRAP, ...env };
}

export interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** ws run to completion (synchronously). */
export function ws(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Done {
  return runWs(args, { cwd, env: baseEnv(env), timeoutMs: 120_000 });
}

/** ws to completion without blocking the test process, so independent cases can run side by side. */
export function wsConcurrent(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Done> {
  return new Running(args, cwd, env).done;
}

/** A ws process in the background, to be signalled mid-run. */
export class Running {
  readonly child: ChildProcess;
  readonly done: Promise<Done>;
  private readonly started: RunningWs;

  constructor(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    this.started = startWs(args, { cwd, env: baseEnv(env) });
    this.child = this.started.child;
    this.done = this.started.done;
    running.add(this);
    void this.done.then(() => running.delete(this));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.started.output();
  }

  async kill(signal: NodeJS.Signals): Promise<Done> {
    this.child.kill(signal);
    return this.done;
  }
}

const running = new Set<Running>();

/** Safety net for a failed test: no ws we started, and no step process it left, outlives it. */
export async function killRunning(): Promise<void> {
  for (const r of [...running]) await r.kill("SIGKILL");
  for (const dir of tempProjects()) killRecorded(dir);
}

// ---- what the step fixture leaves in the project dir ----

/** How many times each name (step or test) was invoked. */
export function counts(dir: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const name of read(dir, "count").split("\n").filter(Boolean)) result[name] = (result[name] ?? 0) + 1;
  return result;
}

export interface RecordedPid {
  pid: number;
  label: string;
}

/** Every pid the step fixture recorded (leaders and their background grandchildren). */
export function recordedPids(dir: string): RecordedPid[] {
  return read(dir, "pids")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [pid, ...label] = line.split(" ");
      return { pid: Number(pid), label: label.join(" ") };
    });
}

export const started = (dir: string, marker: string) => fs.existsSync(path.join(dir, `started-${marker}`));
export const go = (dir: string, ...markers: string[]) => {
  for (const m of markers) fs.writeFileSync(path.join(dir, `go-${m}`), "");
};

export async function waitStarted(dir: string, ...markers: string[]): Promise<void> {
  await waitFor(() => (markers.every((m) => started(dir, m)) ? true : undefined), 60_000);
}

function read(dir: string, name: string): string {
  try {
    return fs.readFileSync(path.join(dir, name), "utf8");
  } catch {
    return "";
  }
}

// ---- the run's own files ----

export const stateDir = (dir: string, id: string) => path.join(dir, ".worktrees", id);

export interface EventLine {
  type: string;
  step?: string;
  state?: string;
  reason?: string;
  outcome?: string;
  exitCode?: number;
  resume?: boolean;
}

/** The whole lines of events.jsonl (a torn last line is skipped, as the engine does). */
export function events(dir: string, id: string): EventLine[] {
  const text = read(stateDir(dir, id), "events.jsonl");
  const list: EventLine[] = [];
  for (const line of text.split("\n")) {
    try {
      list.push(JSON.parse(line, printedReasons) as EventLine);
    } catch {
      // torn or empty
    }
  }
  return list;
}

export function passedSteps(dir: string, id: string): Set<string> {
  // Per run, the last step-end of a step decides; a later resume never un-passes a step.
  return new Set(events(dir, id).filter((e) => e.type === "step-end" && e.state === "passed").map((e) => e.step ?? ""));
}

export async function waitEvent(dir: string, id: string, match: (e: EventLine) => boolean): Promise<void> {
  await waitFor(() => (events(dir, id).some(match) ? true : undefined), 60_000);
}

export interface StatusJson {
  status: string;
  exitCode?: number;
  steps: Record<string, { state: string; reason?: string; attempts: number }>;
  interrupted: boolean;
}

/** `ws status --ws-id ID --json`, parsed. */
export function status(dir: string, id: string): StatusJson {
  const r = ws(["status", "--ws-id", id, "--json"], dir);
  if (r.code !== 0) throw new Error(`ws status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout, printedReasons) as StatusJson;
}

/** Pids that are still running (zombies count as gone), after waiting a little for each. */
export async function survivors(pids: RecordedPid[]): Promise<RecordedPid[]> {
  const alive: RecordedPid[] = [];
  for (const p of pids) if (!(await waitGone(p.pid, 5000))) alive.push(p);
  return alive;
}

/** Kill a process group the test itself must clean up (see the kill -9 notes in kill-resume.test.ts). */
export function killGroupQuietly(pid: number): void {
  // The group only when pid leads one (a step's leader); a grandchild is killed alone.
  for (const target of isGroupLeader(pid) ? [-pid, pid] : [pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

function isGroupLeader(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const pgrp = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2];
    return Number(pgrp) === pid;
  } catch {
    return false;
  }
}

/** No stack trace line in what ws printed. */
export const STACK_LINE = /^\s{4}at /m;
