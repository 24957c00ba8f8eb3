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

const chunk = Buffer.alloc(64 * 1024);

/** The pid the kernel handed out last (Linux >= 3.3); undefined where it cannot be read. */
function lastPid(): number | undefined {
  let fd: number | undefined;
  try {
    // Into the reused buffer: readFileSync's fstat, second read and string cost more than the read (once an attempt).
    fd = fs.openSync("/proc/sys/kernel/ns_last_pid", "r");
    const value = Number(chunk.toString("latin1", 0, fs.readSync(fd, chunk, 0, 32, 0)));
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Live processes whose cookie satisfies `matches`, ws itself excepted. Reading every process's
 * environment costs ~0.1 ms each (bench/proc-scan.mjs), so a caller that knows the attempt's
 * first pid passes it as `after`: pids are handed out in increasing order, wrapping at pid_max,
 * so every process the attempt started since has a pid in the window (after, last pid], and only
 * those are read. Without `after` (reaping a crashed run), every process is read. `others`: pids
 * known to be another attempt's (the leaders of the groups still running, whose cookie is their
 * own), not read: with two workers the other job's leader is in almost every window.
 */
export function findMarked(matches: (mark: string) => boolean, after?: number, others?: (pid: number) => boolean): number[] {
  const last = after === undefined ? undefined : lastPid();
  const found: number[] = [];
  const probe = (pid: number): void => {
    if (pid === process.pid || others?.(pid)) return;
    const environ = readEnviron(String(pid));
    const mark = environ && environ.length > 0 ? markIn(environ) : undefined; // a zombie's environ is empty
    if (mark !== undefined && matches(mark)) found.push(pid);
  };
  // A short window is probed pid by pid: most attempts of a busy run start one or two processes,
  // and listing /proc (hundreds of entries on a shared machine) cost more than the probes (bench/).
  if (after !== undefined && last !== undefined && last >= after && last - after <= PROBE_WINDOW) {
    for (let pid = after + 1; pid <= last; pid++) probe(pid);
    return found;
  }
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  const wrapped = last !== undefined && after !== undefined && last < after;
  const inWindow = (pid: number) => after === undefined || last === undefined || pid > after || (wrapped && pid <= last);
  for (const entry of entries) {
    const code = entry.charCodeAt(0);
    if (code < 48 || code > 57) continue; // not a pid
    const pid = Number(entry);
    if (inWindow(pid)) probe(pid);
  }
  return found;
}

/** Up to this many pids handed out since an attempt started, each is probed instead of listing /proc. */
const PROBE_WINDOW = 64;

/**
 * One process's environment image, or undefined when it ended meanwhile or is not ours to read.
 * open/read/close into one reused buffer: readFileSync's fstat and allocation per file made a scan
 * about twice as slow (bench/proc-scan.mjs).
 */
function readEnviron(pid: string): Buffer | undefined {
  const file = `/proc/${pid}/environ`;
  // Most pids of a window are gone (the attempt's forks, the other workers'); a failed open
  // builds an exception, ~4× the cost of asking first.
  if (!fs.existsSync(file)) return undefined;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    let got = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (got < chunk.length) return chunk.subarray(0, got);
    const parts = [Buffer.from(chunk)];
    while ((got = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0) parts.push(Buffer.from(chunk.subarray(0, got)));
    return Buffer.concat(parts);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * SIGKILLs every process carrying a matching cookie; returns how many. Scans again after each
 * round: a marked process may fork between the scan and the kill.
 */
export function killMarked(matches: (mark: string) => boolean, after?: number, others?: (pid: number) => boolean): number {
  const killed = new Set<number>();
  for (let round = 0; round < ROUNDS; round++) {
    const pids = findMarked(matches, after, others);
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
