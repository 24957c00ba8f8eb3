import fs from "node:fs";
import { killMarked } from "../proc/attempt-mark.js";
import { startTicks } from "../proc/process-start.js";
import { runProcess, type ProcessResult, type RunProcessOptions } from "../proc/run-process.js";

/**
 * Process groups of running attempts, recorded on disk with their attempt's cookie. A kill -9 of
 * ws leaves its steps' groups running (they are detached), and whatever they started with setsid
 * outside any group; the next run of the workstream, holding the lock, kills the ones still alive
 * before it starts anything, so two copies of an agent never edit the same tree. A pid is only
 * trusted together with its start time (pids are reused); a cookie names one attempt of one run.
 *
 * One append-only journal (`m <cookie>` before an attempt's process starts, `+ <pid> <start>`
 * when its group starts, `- <pid> <cookie>` when it and its cookie were swept) rather than a file per group: a new file per
 * attempt was, on a busy ext4, a large part of a short step's cost (bench/NOTES.md). Only the run
 * holding the workstream's lock writes it.
 */

/**
 * Runs a process with its group in the journal for as long as it runs. The attempt's cookie goes
 * in first (`m <cookie>`): the group is known only once the spawn answers, and a step can start a
 * daemon before that; a kill -9 of ws in between must still leave the daemon findable.
 */
export async function runRecorded(journal: string, options: Omit<RunProcessOptions, "onSpawn">): Promise<ProcessResult> {
  const writer = openJournal(journal);
  try {
    if (options.contain?.mark !== undefined) writer.line(`m ${options.contain.mark}\n`);
    let recorded = false;
    const proc = await runProcess({ ...options, onSpawn: (pid) => (recorded = recordGroup(writer, pid)) });
    // runProcess returns after its final sweep (the group and whatever carries the cookie, killed):
    // the cookie goes with the group's line, so the next run reads /proc for it no more. A run that
    // ended cleanly then starts without reading every process's environment (~0.1 ms each; a
    // one-step run on a shared machine spent ~13 ms there, bench/NOTES.md, issue 32).
    if (recorded && proc.pid !== undefined) writer.line(`- ${proc.pid}${options.contain?.mark !== undefined ? ` ${options.contain.mark}` : ""}\n`);
    return proc;
  } finally {
    writer.done();
  }
}

function recordGroup(writer: JournalWriter, pid: number): boolean {
  const started = startTicks(pid);
  if (started === undefined) return false;
  writer.line(`+ ${pid} ${started}\n`);
  return true;
}

interface JournalWriter {
  line(text: string): void;
  done(): void;
}

/**
 * One descriptor per journal while any attempt of it runs, instead of an open, a write and a
 * close per line (three lines an attempt: bench/NOTES.md, issue 32). Each line is still one
 * write() on an O_APPEND descriptor, in the kernel before the attempt goes on, so a kill -9 loses
 * nothing. Closed when its last attempt ends, so no descriptor outlives the attempts that use it
 * (nor points at a journal reapGroups removed).
 */
const writers = new Map<string, { fd: number; users: number }>();

function openJournal(journal: string): JournalWriter {
  let open = writers.get(journal);
  if (open === undefined) {
    open = { fd: fs.openSync(journal, "a"), users: 0 };
    writers.set(journal, open);
  }
  open.users += 1;
  const entry = open;
  let closed = false;
  return {
    line: (text) => void fs.writeSync(entry.fd, text),
    done: () => {
      if (closed) return;
      closed = true;
      entry.users -= 1;
      if (entry.users > 0) return;
      writers.delete(journal);
      fs.closeSync(entry.fd);
    },
  };
}

/** The groups recorded and not forgotten (pid → start ticks), and every cookie recorded. A line cut short by a kill -9 is skipped. */
function readJournal(journal: string): { groups: Map<number, string>; marks: Set<string> } {
  const groups = new Map<number, string>();
  const marks = new Set<string>();
  let text: string;
  try {
    text = fs.readFileSync(journal, "utf8");
  } catch {
    return { groups, marks };
  }
  for (const line of text.split("\n")) {
    const [sign, first, started, mark] = line.split(" ");
    if (sign === "m" && first) marks.add(first);
    const pid = Number(first);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (sign === "-") {
      groups.delete(pid);
      if (started) marks.delete(started); // swept with its group
    }
    else if (sign === "+" && started) {
      groups.set(pid, started);
      if (mark) marks.add(mark); // a cookie on the group's line: journals of ws before `m` lines
    }
  }
  return { groups, marks };
}

/** Kill every recorded group whose leader is still the process that was recorded, and every process carrying a recorded cookie; returns how many groups and processes. */
export function reapGroups(journal: string): number {
  const { groups, marks } = readJournal(journal);
  let killed = 0;
  for (const [pid, started] of groups) {
    const now = startTicks(pid);
    // Leader alive: only if it is the same process. Leader gone: its group id cannot be handed
    // out again while any member lives, so -pid reaches only the orphans (or nobody: ESRCH).
    if (now === undefined || now === started) {
      try {
        process.kill(-pid, "SIGKILL");
        killed += 1;
      } catch {
        // Nothing left in the group.
      }
    }
  }
  fs.rmSync(journal, { force: true });
  if (marks.size > 0) killed += killMarked((mark) => marks.has(mark));
  return killed;
}
