import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock } from "../../src/store/lock.js";
import { processStartMs } from "../../src/proc/process-start.js";
import { tempDir } from "./helpers.js";

// Locks whose pid now names an unrelated process, and takeover guards left by dead takers.

let dir: string;
let lockFile: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = tempDir();
  lockFile = path.join(dir, ".worktrees", "ws-a", "lock");
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A live process that has nothing to do with ws (what a reused pid points at). */
function unrelated(): number {
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  children.push(child);
  return child.pid!;
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

const holder = (pid: number, startedAt: Date) => JSON.stringify({ pid, startedAt: startedAt.toISOString(), host: os.hostname() });

describe("acquireLock and reused pids", () => {
  it("knows when a live process started", () => {
    const started = processStartMs(unrelated());
    expect(started).toBeDefined();
    // Coarse on purpose (the boot time is whole seconds): within a minute of now.
    expect(Math.abs(Date.now() - started!)).toBeLessThan(60_000);
  });

  it("takes over a lock whose pid now belongs to a process started after the lock was written", () => {
    fs.writeFileSync(lockFile, holder(unrelated(), new Date(Date.now() - 3_600_000)));
    const taken = acquireLock(lockFile);
    expect(taken.ok).toBe(true);
    if (taken.ok) taken.release();
  });

  it("honours a lock written after its live holder started", () => {
    const pid = unrelated();
    fs.writeFileSync(lockFile, holder(pid, new Date(Date.now() + 1000)));
    expect(acquireLock(lockFile)).toMatchObject({ ok: false, holder: { pid } });
  });

  it("removes at once a takeover guard whose taker died, and takes over the stale lock", () => {
    fs.writeFileSync(lockFile, holder(deadPid(), new Date(Date.now() - 60_000)));
    fs.writeFileSync(`${lockFile}.takeover`, holder(deadPid(), new Date()));
    const taken = acquireLock(lockFile);
    expect(taken.ok).toBe(true);
    expect(fs.existsSync(`${lockFile}.takeover`)).toBe(false);
    if (taken.ok) taken.release();
  });

  it("leaves a stale lock alone while a live taker holds the guard", () => {
    const dead = deadPid();
    fs.writeFileSync(lockFile, holder(dead, new Date(Date.now() - 60_000)));
    fs.writeFileSync(`${lockFile}.takeover`, holder(unrelated(), new Date(Date.now() + 1000)));
    expect(acquireLock(lockFile)).toMatchObject({ ok: false, holder: { pid: dead } });
  });
});
