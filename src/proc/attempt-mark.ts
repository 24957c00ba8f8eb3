import fs from "node:fs";

/**
 * Every process of an attempt carries an environment cookie, `WS_ATTEMPT_COOKIE=<run>:<step>:<attempt>`
 * (the way Jenkins' ProcessTreeKiller marks a build's processes). A process group cannot hold a
 * step that calls `setsid` (a daemon, `nohup ... &` in its own session); the cookie is inherited
 * through fork and exec all the same, so when the attempt ends ws finds what carries it in
 * /proc/<pid>/environ and kills it. A process that rewrites its own environment and re-execs
 * escapes this too; the sandbox (bwrap, its own pid namespace) holds even that one.
 */

export const MARK_VARIABLE = "WS_ATTEMPT_COOKIE";

const NEEDLE = Buffer.from(`${MARK_VARIABLE}=`);
const ROUNDS = 10;

/** The cookie of one attempt. `run` must be unique per run; ids never hold ":" at the start of a run id. */
export function attemptMark(runId: string, step: string, attempt: number): string {
  return `${runId}:${step}:${attempt}`;
}

/** Whether marked processes can be found here: Linux's /proc. Elsewhere only the process group is killed. */
export function canFindMarked(): boolean {
  try {
    fs.accessSync("/proc/self/environ", fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cookie in a /proc/<pid>/environ image (NUL-separated NAME=value), if there is one. */
export function markIn(environ: Buffer): string | undefined {
  let from = 0;
  for (;;) {
    const at = environ.indexOf(NEEDLE, from);
    if (at < 0) return undefined;
    if (at === 0 || environ[at - 1] === 0) {
      const end = environ.indexOf(0, at);
      return environ.toString("utf8", at + NEEDLE.length, end < 0 ? environ.length : end);
    }
    from = at + 1;
  }
}

/**
 * Live processes whose cookie satisfies `matches`, ws itself excepted. Reads the initial
 * environment of every process once: run at an attempt's end, never in a loop over time
 * (bench/: the cost of one scan).
 */
export function findMarked(matches: (mark: string) => boolean): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const code = entry.charCodeAt(0);
    if (code < 48 || code > 57) continue; // not a pid
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`);
    } catch {
      continue; // ended while we looked, or not ours to read
    }
    const mark = environ.length > 0 ? markIn(environ) : undefined; // a zombie's environ is empty
    if (mark !== undefined && matches(mark)) found.push(pid);
  }
  return found;
}

/**
 * SIGKILLs every process carrying a matching cookie; returns how many. Scans again after each
 * round: a marked process may fork between the scan and the kill.
 */
export function killMarked(matches: (mark: string) => boolean): number {
  const killed = new Set<number>();
  for (let round = 0; round < ROUNDS; round++) {
    const pids = findMarked(matches);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
        killed.add(pid);
      } catch {
        // gone meanwhile, or not ours
      }
    }
  }
  return killed.size;
}
