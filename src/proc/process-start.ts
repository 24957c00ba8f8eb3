import { spawnSync } from "node:child_process";
import fs from "node:fs";

/**
 * When a process started. A pid alone names nothing for long (pids are reused), so whatever ws
 * records about a process (a lock holder, a step's process group) is checked against its start.
 */

/** Linux's USER_HZ: the unit of /proc/<pid>/stat's start time, 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** The start time in clock ticks since boot (/proc/<pid>/stat field 22); undefined if gone or not Linux. */
export function startTicks(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * Exited but not yet reaped by its parent (Linux; elsewhere false: telling would cost a `ps`).
 * A killed ws stays a zombie until whoever started it waits for it, and a zombie still answers
 * `kill(pid, 0)`.
 */
export function isZombie(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === "Z" || state === "X";
}

/** /proc/<pid>/stat from field 3 (the state) on; undefined if gone or not Linux. */
function statFields(pid: number): string[] | undefined {
  let fd: number | undefined;
  try {
    // One read into a reused buffer (the line is under 1 KiB; a comm of 64 bytes at most): read for
    // every attempt's group, where readFileSync's fstat, second read and whole-line string showed.
    fd = fs.openSync(`/proc/${pid}/stat`, "r");
    const size = fs.readSync(fd, statBuffer, 0, statBuffer.length, 0);
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ")".
    const from = statBuffer.lastIndexOf(41, size - 1) + 2; // ")"
    if (from < 2) return undefined;
    return statBuffer.toString("latin1", from, size).split(" ", 20);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const statBuffer = Buffer.alloc(4096);

let bootMs: number | undefined;

function bootTimeMs(): number | undefined {
  if (bootMs !== undefined) return bootMs;
  try {
    const line = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
    if (line?.[1]) bootMs = Number(line[1]) * 1000;
  } catch {
    // not Linux
  }
  return bootMs;
}

/**
 * The process's start as epoch milliseconds, or undefined when it is gone or cannot be told.
 * Linux: /proc (precise to about a second: the boot time is whole seconds); elsewhere `ps -o
 * lstart` (whole seconds).
 */
export function processStartMs(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (fs.existsSync("/proc/self/stat")) {
    const ticks = startTicks(pid);
    const boot = bootTimeMs();
    if (ticks === undefined || boot === undefined) return undefined;
    return boot + (Number(ticks) * 1000) / TICKS_PER_SECOND;
  }
  // LC_ALL=C: lstart is printed in the locale's words ("Mon Nov 30 10:00:58 2026" in C).
  const ps = spawnSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  if (ps.status !== 0) return undefined;
  const parsed = Date.parse(ps.stdout.trim());
  return Number.isNaN(parsed) ? undefined : parsed;
}
