import fs from "node:fs";
import path from "node:path";
import { killMarked } from "../proc/attempt-mark.js";
import { startTicks } from "../proc/process-start.js";

/**
 * Process groups of running attempts, recorded on disk with their attempt's cookie. A kill -9 of
 * ws leaves its steps' groups running (they are detached), and whatever they started with setsid
 * outside any group; the next run of the workstream, holding the lock, kills the ones still alive
 * before it starts anything, so two copies of an agent never edit the same tree. A pid is only
 * trusted together with its start time (pids are reused); a cookie names one attempt of one run.
 */

export function recordGroup(dir: string, pid: number, mark?: string): void {
  const started = startTicks(pid);
  if (started === undefined) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, String(pid)), mark === undefined ? started : `${started}\n${mark}\n`);
}

export function forgetGroup(dir: string, pid: number): void {
  fs.rmSync(path.join(dir, String(pid)), { force: true });
}

/** Kill every recorded group whose leader is still the process that was recorded, and every process carrying a recorded cookie; returns how many groups and processes. */
export function reapGroups(dir: string): number {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let killed = 0;
  const marks = new Set<string>();
  for (const name of entries) {
    const pid = Number(name);
    const [recorded = "", mark] = fs.readFileSync(path.join(dir, name), "utf8").trim().split("\n");
    if (mark) marks.add(mark);
    const now = startTicks(pid);
    // Leader alive: only if it is the same process. Leader gone: its group id cannot be handed
    // out again while any member lives, so -pid reaches only the orphans (or nobody: ESRCH).
    if (Number.isInteger(pid) && pid > 1 && (now === undefined || now === recorded)) {
      try {
        process.kill(-pid, "SIGKILL");
        killed += 1;
      } catch {
        // Nothing left in the group.
      }
    }
    forgetGroup(dir, pid);
  }
  if (marks.size > 0) killed += killMarked((mark) => marks.has(mark));
  return killed;
}
