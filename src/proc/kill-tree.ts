import { isZombie } from "./process-start.js";

/**
 * Signal a whole process group (a child spawned with `detached: true` leads its own group, so
 * `-pid` reaches its shell, the agent and every background grandchild at once).
 *
 * A group that is already gone (ESRCH) is the normal end of a sweep, not an error. EPERM is
 * ignored too: a failed kill must never crash the orchestrator, and it can only mean the group
 * is no longer ours.
 */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  // process.kill(-0) would signal ws's own group, and -1 every process we may signal.
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`killGroup: refusing to signal group of pid ${pid}`);
  // Every attempt's sweep signals a group that is usually gone: the ESRCH error is built without
  // a stack (its capture was most of the call's cost in a 1000-step run's profile).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ESRCH" && code !== "EPERM") throw error;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Whether a process exists and has not exited (EPERM: it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}
