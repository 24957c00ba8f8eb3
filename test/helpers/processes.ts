import fs from "node:fs";

/** Dead, or a zombie nobody has reaped yet (it can no longer run or hold a pipe). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Waits (as a safety net only) for a process to disappear; reaping by init is asynchronous. */
export async function waitGone(pid: number, limitMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 25) {
    if (isGone(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return isGone(pid);
}
