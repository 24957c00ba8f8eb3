import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The one way tests drive the built binary (`npm test` builds it first). WS_TEST_BIN points every
 * suite at another copy, e.g. a deliberately broken build, to check that the tests can fail.
 */
export const BIN = process.env.WS_TEST_BIN ?? fileURLToPath(new URL("../../bin/ws.js", import.meta.url));

export interface WsResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface WsCall {
  cwd: string;
  /** The whole environment of the child: tests start from a clean one, never the developer's shell. */
  env: NodeJS.ProcessEnv;
  /** A safety net against a hung run, killed before vitest's own timeout; never a speed assertion. */
  timeoutMs?: number;
  /** Options for node itself, before the binary (e.g. `--import` of a tracing hook). */
  nodeArgs?: string[];
}

/** A clean environment: PATH and HOME only, plus what the test adds. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // WS_BWRAP=none (bubblewrap hidden, CI's unsandboxed pass) must reach the ws under test.
  return { PATH: process.env.PATH, HOME: process.env.HOME, WS_WORKTREES_DIR: process.env.WS_WORKTREES_DIR, WS_BWRAP: process.env.WS_BWRAP, ...extra };
}

/** `ws ARGS` to completion. */
export function ws(args: string[], call: WsCall): WsResult {
  const r = wsBytes(args, call);
  return { ...r, stdout: r.stdout.toString("utf8") };
}

/** `ws ARGS` to completion, its stdout as bytes (a PNG written to a pipe). */
export function wsBytes(args: string[], call: WsCall): Omit<WsResult, "stdout"> & { stdout: Buffer } {
  const r = spawnSync(process.execPath, [...(call.nodeArgs ?? []), BIN, ...args], {
    cwd: call.cwd,
    env: call.env,
    timeout: call.timeoutMs ?? 50_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  // Null only when node itself could not start; the test then fails on the exit code, not here.
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? Buffer.alloc(0), stderr: (r.stderr ?? Buffer.alloc(0)).toString("utf8") };
}

export interface RunningWs {
  child: ChildProcess;
  pid: number;
  done: Promise<WsResult>;
  /** What it printed so far, stdout then stderr. */
  output(): string;
}

const started = new Set<ChildProcess>();

/** `ws ARGS` in the background (signals, locks, reading a run in progress). */
export function startWs(args: string[], call: WsCall): RunningWs {
  const child = spawn(process.execPath, [...(call.nodeArgs ?? []), BIN, ...args], { cwd: call.cwd, env: call.env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error("ws did not start");
  started.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<WsResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  void done.then(() => started.delete(child));
  return { child, pid: child.pid, done, output: () => stdout + stderr };
}

/** Kills what a failed test left running in the background. */
export function killStartedWs(): void {
  for (const child of started) child.kill("SIGKILL");
  started.clear();
}

const projects: string[] = [];

/** A temp project (real path) with `workstreams/<id>.json` for each workstream given as an object, if any. */
export function tempProject(prefix: string, workstreams: Array<{ id: string }> = []): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  projects.push(dir);
  for (const doc of workstreams) writeWorkstream(dir, doc);
  return dir;
}

/** A temp project (real path) holding `files`: path to text, or to an object written as JSON. */
export function tempProjectOf(prefix: string, files: Record<string, string | object>): string {
  const dir = tempProject(prefix);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

export function writeWorkstream(dir: string, doc: { id: string }): void {
  fs.mkdirSync(path.join(dir, "workstreams"), { recursive: true });
  fs.writeFileSync(path.join(dir, "workstreams", `${doc.id}.json`), JSON.stringify(doc, null, 2) + "\n");
}

/** The temp projects made so far and not yet removed. */
export function tempProjects(): readonly string[] {
  return projects;
}

/** Removes the temp projects made so far; `before` runs on each first (e.g. to kill its processes). */
export function removeTempProjects(before: (dir: string) => void = () => undefined): void {
  for (const dir of projects.splice(0)) {
    before(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
