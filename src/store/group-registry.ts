import fs from "node:fs";
import path from "node:path";

/**
 * Process groups of running attempts, recorded on disk. A kill -9 of ws leaves its steps'
 * groups running (they are detached); the next run of the workstream, holding the lock, kills
 * the ones still alive before it starts anything, so two copies of an agent never edit the same
 * tree. A pid is only trusted together with its start time (pids are reused).
 */

/** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); undefined if gone or not Linux. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function recordGroup(dir: string, pid: number): void {
  const started = startTime(pid);
  if (started === undefined) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, String(pid)), started);
}

export function forgetGroup(dir: string, pid: number): void {
  fs.rmSync(path.join(dir, String(pid)), { force: true });
}

/** Kill every recorded group whose leader is still the process that was recorded; returns how many. */
export function reapGroups(dir: string): number {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let killed = 0;
  for (const name of entries) {
    const pid = Number(name);
    const recorded = fs.readFileSync(path.join(dir, name), "utf8").trim();
    const now = startTime(pid);
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
  return killed;
}
