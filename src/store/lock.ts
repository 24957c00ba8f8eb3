import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isAlive } from "../proc/kill-tree.js";
import { processStartMs } from "../proc/process-start.js";
import { storeError } from "./store-error.js";

// Hand-written rather than proper-lockfile: that one decides staleness by mtime, we decide it by
// pid, which is exact on one host and needs no refresh timer.
//
// Race safety:
// - Taking a free lock: the content is written to a private temp file, then link()ed to the lock
//   name (only once the lock was read as absent: a run that finds it held writes nothing). link()
//   fails with EEXIST if the name exists, so exactly one of two racing processes wins, and a
//   reader never sees a half-written lock.
// - Taking over a stale lock: deleting it is the dangerous step (a slow taker could delete the
//   fresh lock a faster taker just made). So a stale lock is only deleted while holding
//   `<lock>.takeover`, after re-reading that it is still the same stale content; then the taker
//   competes with link() like everyone else. The guard is taken exactly like the lock (a temp
//   file holding the taker's {pid, startedAt, host}, link()ed to the name), so it never exists
//   without its owner: a guard whose owner is dead, or that has no readable owner at all (a
//   folder, as ws made it before, left by a taker that died between its mkdir and its write), was
//   left behind and is removed at once, with no age to wait out. Removing it re-reads it first, so
//   a guard another taker made meanwhile is not broken (the same check-then-remove as the lock's;
//   to go wrong it needs a dead taker's guard and three takers within microseconds).

export interface LockHolder {
  pid: number;
  startedAt: string;
  host: string;
}

export type LockResult = { ok: true; release(): void } | { ok: false; holder: { pid: number; startedAt: string; host: string } };

/**
 * A live pid whose process started this long after the lock was written is not the holder but a
 * process that got its pid later. The slack covers the start time's precision (Linux: the boot
 * time is whole seconds; `ps -o lstart`: whole seconds) and clock adjustments.
 */
const REUSE_SLACK_MS = 2000;
const ATTEMPTS = 50;

/** Exclusive lock file with {pid, startedAt, host}; a lock whose pid is dead (same host) is taken over. */
export function acquireLock(file: string): LockResult {
  const mine = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), host: os.hostname() }) + "\n";
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw storeError("create the lock", file, error);
  }
  let holder: LockHolder | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // Read before linking: a run that finds the lock held writes nothing at all, not even a temp
    // file, so it cannot disturb the run that holds it. link() still decides every race.
    const text = readText(file);
    if (text === undefined) {
      if (tryLink(file, mine)) return { ok: true, release: () => release(file, mine) };
      continue; // taken meanwhile: read who holds it
    }
    holder = parseHolder(text);
    if (holder && !isStale(holder)) return { ok: false, holder };
    removeStale(file, text);
  }
  // Only reachable if the lock keeps changing hands under us: report whoever holds it now.
  holder = parseHolder(readText(file) ?? "") ?? holder;
  return { ok: false, holder: holder ?? { pid: 0, startedAt: "", host: "" } };
}

export function readLockHolder(file: string): { pid: number; startedAt: string; alive: boolean } | undefined {
  const holder = parseHolder(readText(file) ?? "");
  if (!holder) return undefined;
  return { pid: holder.pid, startedAt: holder.startedAt, alive: !isStale(holder) };
}

function tryLink(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.writeFileSync(temp, content, { flag: "wx" });
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw storeError("create the lock", file, error);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function release(file: string, mine: string): void {
  // Only our own lock: never delete one that someone else holds.
  if (readText(file) === mine) fs.rmSync(file, { force: true });
}

/**
 * Another host's pid cannot be checked: its lock is never stale to us. A lock we cannot parse is
 * garbage. On this host a lock is stale when its pid is dead, or alive but a process that started
 * after the lock was written (the pid was reused by an unrelated process).
 */
function isStale(holder: LockHolder | undefined): boolean {
  if (!holder) return true;
  if (holder.host !== os.hostname()) return false;
  return !isAlive(holder.pid) || pidReused(holder);
}

function pidReused(holder: LockHolder): boolean {
  const written = Date.parse(holder.startedAt);
  const started = processStartMs(holder.pid);
  return !Number.isNaN(written) && started !== undefined && started > written + REUSE_SLACK_MS;
}

function removeStale(file: string, staleText: string): void {
  const guard = `${file}.takeover`;
  const mine = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), host: os.hostname() }) + "\n";
  if (!tryLink(guard, mine)) {
    const owner = readGuard(guard);
    if (owner === undefined) return; // released meanwhile: try again
    if (owner === LEFT_BEHIND || isStale(parseHolder(owner))) {
      // Re-read just before removing: a guard another taker made meanwhile is not ours to break.
      if (readGuard(guard) === owner) fs.rmSync(guard, { recursive: true, force: true });
    } else sleep(20); // another process is taking over; it will link its lock or leave
    return;
  }
  try {
    if (readText(file) === staleText) fs.rmSync(file, { force: true });
  } finally {
    release(guard, mine);
  }
}

/** What a guard that is not a readable file reads as: only a taker that died leaves one. */
const LEFT_BEHIND = "\0left behind";

/** The takeover guard's owner, LEFT_BEHIND for a folder or an unreadable file, undefined when it is gone. */
function readGuard(guard: string): string | undefined {
  try {
    return fs.readFileSync(guard, "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? undefined : LEFT_BEHIND;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw storeError("read the lock", file, error);
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (typeof value?.pid !== "number" || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return { pid: value.pid, startedAt: String(value.startedAt ?? ""), host: String(value.host ?? "") };
  } catch {
    return undefined;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
