import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { acquireLock, readLockHolder } from "../../src/store/lock.js";
import { tempDir, transpileForChild } from "./helpers.js";

let compiled: string;
let dir: string;
let lockFile: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  compiled = tempDir();
  transpileForChild(compiled, ["store/lock.ts", "store/store-error.ts", "proc/kill-tree.ts", "proc/process-start.ts", "errors.ts"]);
  // Acquires at the agreed instant (argv[3], so racers collide), reports, holds until killed.
  fs.writeFileSync(
    path.join(compiled, "hold-lock.js"),
    `import { acquireLock } from "./store/lock.js";
const startAt = Number(process.argv[3] ?? 0);
while (Date.now() < startAt) {}
const result = acquireLock(process.argv[2]);
process.stdout.write(JSON.stringify({ ok: result.ok, holder: result.ok ? undefined : result.holder }) + "\\n");
if (result.ok) setInterval(() => {}, 1000);
`,
  );
});
afterAll(() => fs.rmSync(compiled, { recursive: true, force: true }));
beforeEach(() => {
  dir = tempDir();
  lockFile = path.join(dir, ".worktrees", "ws-a", "lock");
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Report {
  ok: boolean;
  holder?: { pid: number };
}

function holdInChild(startAt = 0): { child: ChildProcess; report: Promise<Report> } {
  const child = spawn(process.execPath, [path.join(compiled, "hold-lock.js"), lockFile, String(startAt)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const report = new Promise<Report>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(JSON.parse(text) as Report);
    });
    child.on("exit", (code) => reject(new Error(`lock child exited ${code} before reporting`)));
  });
  return { child, report };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

function deadPid(): number {
  // The pid of a process that has exited.
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

function writeLock(pid: number, host = os.hostname(), startedAt = "2026-11-21T00:00:00.000Z"): void {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  fs.writeFileSync(lockFile, JSON.stringify({ pid, startedAt, host }));
}

/** A process that has exited and that its parent never reaps (a python that forks and sleeps), and that parent. */
async function zombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const script = "import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)";
  const parent = spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
  children.push(parent);
  const pid = await new Promise<number>((resolve) => parent.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  for (let waited = 0; waited < 5000 && !fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "); waited += 10) await new Promise((r) => setTimeout(r, 10));
  return { pid, parent };
}

describe("acquireLock", () => {
  it("is exclusive in one process and released by its holder only", () => {
    const first = acquireLock(lockFile);
    expect(first.ok).toBe(true);
    const second = acquireLock(lockFile);
    expect(second).toMatchObject({ ok: false, holder: { pid: process.pid, host: os.hostname() } });
    expect(readLockHolder(lockFile)).toMatchObject({ pid: process.pid, alive: true });
    if (first.ok) first.release();
    expect(fs.existsSync(lockFile)).toBe(false);
    expect(readLockHolder(lockFile)).toBeUndefined();
    const third = acquireLock(lockFile);
    expect(third.ok).toBe(true);
    if (first.ok) first.release(); // a stale release must not remove the new holder's lock
    expect(readLockHolder(lockFile)?.pid).toBe(process.pid);
    if (third.ok) third.release();
  });

  it("is exclusive between two real processes, and taken over once the holder is killed", async () => {
    const holder = holdInChild();
    expect(await holder.report).toEqual({ ok: true });
    const mine = acquireLock(lockFile);
    expect(mine).toMatchObject({ ok: false, holder: { pid: holder.child.pid } });
    expect(readLockHolder(lockFile)).toMatchObject({ pid: holder.child.pid, alive: true });

    holder.child.kill("SIGKILL"); // dies without releasing
    await exited(holder.child);
    expect(readLockHolder(lockFile)).toMatchObject({ pid: holder.child.pid, alive: false });
    const taken = acquireLock(lockFile);
    expect(taken.ok).toBe(true);
    expect(readLockHolder(lockFile)?.pid).toBe(process.pid);
    if (taken.ok) taken.release();
  });

  it("gives a free lock to exactly one of several racing processes", async () => {
    const startAt = Date.now() + 1500;
    const racers = Array.from({ length: 5 }, () => holdInChild(startAt));
    const reports = await Promise.all(racers.map((r) => r.report));
    expect(reports.filter((r) => r.ok)).toHaveLength(1);
    const winner = racers[reports.findIndex((r) => r.ok)]!.child.pid;
    for (const report of reports.filter((r) => !r.ok)) expect(report.holder?.pid).toBe(winner);
  });

  it("gives a stale lock to exactly one of several racing processes", async () => {
    writeLock(deadPid());
    const startAt = Date.now() + 1500;
    const racers = Array.from({ length: 5 }, () => holdInChild(startAt));
    const reports = await Promise.all(racers.map((r) => r.report));
    expect(reports.filter((r) => r.ok)).toHaveLength(1);
    const winner = racers[reports.findIndex((r) => r.ok)]!.child.pid;
    expect(readLockHolder(lockFile)).toMatchObject({ pid: winner, alive: true });
    expect(fs.existsSync(`${lockFile}.takeover`)).toBe(false);
  });

  it("takes over a lock left by a dead pid, or a garbage lock file", () => {
    writeLock(deadPid());
    const taken = acquireLock(lockFile);
    expect(taken.ok).toBe(true);
    if (taken.ok) taken.release();

    fs.writeFileSync(lockFile, "not json");
    const again = acquireLock(lockFile);
    expect(again.ok).toBe(true);
    if (again.ok) again.release();
  });

  // A run killed with kill -9 stays a zombie until whoever started it waits: ws status must not
  // call it running, nor may a new run wait for it (Linux, where /proc tells).
  it.runIf(process.platform === "linux")("takes over a lock whose holder exited and is not reaped yet (a zombie answers kill 0)", async () => {
    const { pid, parent } = await zombie();
    // A start stamp after both processes began: neither reads as a reused pid, only the zombie check decides.
    const now = new Date(Date.now() + 60_000).toISOString();
    writeLock(parent.pid!, os.hostname(), now);
    expect(acquireLock(lockFile)).toMatchObject({ ok: false, holder: { pid: parent.pid } });
    expect(readLockHolder(lockFile)?.alive).toBe(true);
    writeLock(pid, os.hostname(), now);
    expect(readLockHolder(lockFile)?.alive).toBe(false);
    const taken = acquireLock(lockFile);
    expect(taken.ok).toBe(true);
    if (taken.ok) taken.release();
  });

  it("leaves a stale lock alone while a live taker holds the takeover guard", () => {
    const dead = deadPid();
    writeLock(dead);
    // This process is alive, and holds the guard like a taker does: a file naming its owner.
    fs.writeFileSync(`${lockFile}.takeover`, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), host: os.hostname() }));
    expect(acquireLock(lockFile)).toMatchObject({ ok: false, holder: { pid: dead } });
    expect(readLockHolder(lockFile)?.pid).toBe(dead);
    expect(fs.existsSync(`${lockFile}.takeover`)).toBe(true);
  });

  it("removes at once a takeover guard without an owner (a taker died mid-takeover), however young", () => {
    for (const leftover of [() => fs.mkdirSync(`${lockFile}.takeover`), () => fs.writeFileSync(`${lockFile}.takeover`, "")]) {
      writeLock(deadPid());
      leftover();
      const taken = acquireLock(lockFile);
      expect(taken.ok).toBe(true);
      expect(fs.existsSync(`${lockFile}.takeover`)).toBe(false);
      if (taken.ok) taken.release();
    }
  });

  it("never takes over another host's lock (its pid cannot be checked)", () => {
    writeLock(deadPid(), "some-other-host");
    expect(acquireLock(lockFile)).toMatchObject({ ok: false, holder: { host: "some-other-host" } });
  });

  it("throws a UserError naming the path when the folder cannot be created", () => {
    fs.writeFileSync(path.join(dir, "blocker"), "");
    const bad = path.join(dir, "blocker", "lock");
    expect(() => acquireLock(bad)).toThrow(UserError);
    expect(() => acquireLock(bad)).toThrow(bad);
  });
});
