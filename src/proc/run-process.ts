import fs from "node:fs";
import { formatDuration } from "../format/duration.js";
import { killMarked } from "./attempt-mark.js";
import type { Containment } from "./containment.js";
import { killGroup } from "./kill-tree.js";
import { decodeLine, LineSplitter } from "./line-splitter.js";
import { launch } from "./launch.js";
import { countAttempt, countOutput } from "./optimizer-hold.js";
import { serverMakesFiles, type Launched } from "./spawn-server.js";
import { addLiveGroup, isLiveGroup, removeLiveGroup } from "./live-groups.js";
import { shellQuote } from "../format/shell-quote.js";
import { StepLog, type OutputStream } from "./step-log.js";

// node:child_process rather than execa: execa's timeout, cancelSignal and forceKillAfterDelay
// signal only the direct child, and its result waits for stdout to close, which a background
// grandchild can hold open forever. We need the leader's exit on its own, group kills and our own
// streaming to the log, so none of execa's features would be used (and it costs startup time).

export interface RunProcessOptions {
  command: string; // a shell step is command "/bin/sh", args ["-c", line]
  args: string[];
  cwd: string;
  env?: Record<string, string>; // added to process.env (or to `inherit`)
  /**
   * What the child inherits instead of process.env: a copy the engine makes once per run. Every
   * read of process.env calls into C++ for each variable, ~80 µs a copy at 35 variables, and an
   * attempt copied it four times (bench/NOTES.md).
   */
  inherit?: Readonly<Record<string, string>> | undefined;
  timeoutMs?: number; // 0/undefined = none
  killGraceMs?: number; // SIGTERM → SIGKILL delay, default 2000
  logFile: string; // created with its folder; appended if it exists
  signal?: AbortSignal; // abort = cancel: same group kill as timeout, outcome `cancelled`
  onLine?: (line: string, stream: "stdout" | "stderr") => void; // complete lines, each capped at 1 MiB
  tailLines?: number; // default 50; each kept line capped (e.g. 4 KiB)
  /**
   * A file fed to the child as its stdin, whole, then EOF (a prompt too long for argv). Without
   * it stdin is /dev/null: agent CLIs wait forever on a pipe left open.
   */
  stdinFile?: string | undefined;
  /** Called once the group exists, e.g. to record it on disk for a later run to reap after a kill -9. */
  onSpawn?: (pid: number) => void;
  /** Cookie, withheld variables, sandbox: applied to argv/env before spawning (launch.ts). */
  contain?: Containment;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null; // e.g. "SIGKILL"
  outcome: "exited" | "timeout" | "cancelled" | "spawn_error";
  durationMs: number;
  tail: string[]; // last lines of stdout+stderr interleaved, raw (no timestamps)
  error?: string; // spawn_error: e.g. "command not found: aider" (ENOENT) / EACCES
  pid?: number;
}

const ON_LINE_CAP = 1024 * 1024;
const TAIL_LINE_CAP = 4096;
/** After the final sweep, how long to wait for the pipes to close (a process that left the group can hold them). */
const DRAIN_CAP_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** pid_max may be as low as 32768: a process that ran this long may have seen the pids wrap around. */
const FULL_SCAN_AFTER_MS = 10_000;

/**
 * Run one command in its own process group, streaming its output to `logFile`.
 *
 * Never rejects for expected outcomes (non-zero exit, signal, timeout, cancel, missing binary).
 * Rejects with a UserError naming the path when the log cannot be written, and with whatever
 * `onLine` threw (a bug in the caller) once the process is cleaned up.
 */
export async function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const { command, args, cwd } = options;
  const header = `$ ${shellQuote([command, ...args])} (cwd: ${cwd})`;
  // The python server creates the log and its folder before the child starts (serverMakesFiles).
  const early = serverMakesFiles();
  let log = early ? undefined : StepLog.open(options.logFile, header);
  const theLog = (): StepLog => (log ??= StepLog.open(options.logFile, header));
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const tailLines = options.tailLines ?? 50;
  const tail = new Tail(tailLines);

  const finish = (result: ProcessResult, footer: string): ProcessResult => {
    const written = theLog();
    written.note(footer);
    written.close();
    if (written.error) throw written.error;
    return result;
  };
  const notStarted = (outcome: "cancelled" | "spawn_error", error?: string): ProcessResult =>
    finish(
      { exitCode: null, signal: null, outcome, durationMs: elapsed(), tail: [], ...(error === undefined ? {} : { error }) },
      error === undefined ? "cancelled before start" : `spawn error: ${error}`,
    );

  if (options.signal?.aborted) return notStarted("cancelled");
  // Spawning in a missing folder fails with ENOENT too, which would read as "command not found".
  if (!isDirectory(cwd)) return notStarted("spawn_error", `working directory not found: ${cwd}`);

  const launched = await launch({ ...options, createFile: early ? options.logFile : undefined });
  if ("error" in launched) return notStarted("spawn_error", launched.error);
  log ??= openStarted(options.logFile, header, launched);
  const { pid } = launched;
  countAttempt();
  addLiveGroup(pid);
  options.onSpawn?.(pid);

  let callbackError: { error: unknown } | undefined;
  const pump = (stream: NodeJS.ReadableStream, name: OutputStream): Promise<unknown> => {
    const splitter = new LineSplitter(options.onLine ? ON_LINE_CAP : TAIL_LINE_CAP, (line, dropped) => {
      tail.push(line, dropped);
      if (options.onLine && !callbackError) {
        try {
          options.onLine(decodeLine(line, dropped), name);
        } catch (error) {
          callbackError = { error };
        }
      }
    }, options.onLine ? undefined : tailLines);
    stream.on("error", () => {
      // A read error ends the stream like EOF does; what was read is in the log.
    });
    stream.on("data", (chunk: Buffer) => {
      countOutput(chunk.length);
      log!.write(chunk, name);
      splitter.push(chunk);
    });
    return once(stream, "close").then(() => splitter.end());
  };
  const drained = Promise.all([pump(launched.stdout, "stdout"), pump(launched.stderr, "stderr")]);

  let exited = false;
  // Widened on purpose: `stop` changes it from a callback, which TypeScript cannot see.
  let outcome = "exited" as "exited" | "timeout" | "cancelled";
  let forced = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (exited || outcome !== "exited") return;
    outcome = why;
    killGroup(pid, "SIGTERM");
    graceTimer = setTimeout(() => {
      if (exited) return;
      forced = true;
      killGroup(pid, "SIGKILL");
    }, Math.min(options.killGraceMs ?? 2000, MAX_TIMER_MS));
  };
  const timeoutMs = options.timeoutMs ?? 0;
  // Past 2^31-1 ms setTimeout fires at once; 24.8 days is "no timeout" for a step anyway.
  const timer = timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS ? setTimeout(() => stop("timeout"), timeoutMs) : undefined;
  const onAbort = () => stop("cancelled");
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const [exitCode, signal] = await launched.exit;
  exited = true;
  const durationMs = elapsed();
  clearTimeout(timer);
  clearTimeout(graceTimer);
  options.signal?.removeEventListener("abort", onAbort);

  sweep(pid, durationMs, options.contain?.mark);
  await drainOrCut(drained, launched);

  const result: ProcessResult = { exitCode, signal, outcome, durationMs, tail: tail.lines(), pid };
  const done = finish(result, footerOf(result, timeoutMs, forced));
  if (callbackError) throw callbackError.error;
  return done;
}

/**
 * The final sweep, in every outcome: background grandchildren must not outlive their step, and
 * while they live they hold the pipes open. What left the group (setsid) still carries the
 * attempt's cookie. Its pid came after the leader's, unless the pids wrapped around more than once
 * meanwhile: only a long run reads them all.
 */
function sweep(pid: number, durationMs: number, mark: string | undefined): void {
  killGroup(pid, "SIGKILL");
  removeLiveGroup(pid);
  // The other attempts' leaders still running carry their own cookies: not read.
  if (mark !== undefined) killMarked((found) => found === mark, durationMs < FULL_SCAN_AFTER_MS ? pid : undefined, isLiveGroup);
}

/**
 * The log of a child that already runs (its file made by the python server, so this open is of an
 * existing file: no new inode on ws's main thread). If even that fails, the child must not
 * outlive the error.
 */
function openStarted(file: string, header: string, launched: Launched): StepLog {
  try {
    return StepLog.open(file, header);
  } catch (error) {
    killGroup(launched.pid, "SIGKILL");
    launched.stdout.destroy();
    launched.stderr.destroy();
    launched.release(false);
    throw error;
  }
}

/**
 * The output a process left behind, read to its end, unless something that escaped the kill (a
 * setsid daemon) still holds the pipes after DRAIN_CAP_MS: then the pipes are cut.
 */
async function drainOrCut(drained: Promise<unknown>, launched: Launched): Promise<void> {
  let capTimer: NodeJS.Timeout | undefined;
  const capped = await Promise.race([
    drained.then(() => false),
    new Promise<boolean>((resolve) => (capTimer = setTimeout(() => resolve(true), DRAIN_CAP_MS))),
  ]);
  clearTimeout(capTimer);
  if (capped) {
    launched.stdout.destroy();
    launched.stderr.destroy();
    await drained;
  }
  launched.release(!capped);
}

/** The log's last line: how the process ended. */
function footerOf(result: ProcessResult, timeoutMs: number, forced: boolean): string {
  const kill = forced ? "SIGTERM, then SIGKILL" : "SIGTERM";
  if (result.outcome === "timeout") return `timeout after ${formatDuration(timeoutMs)} (${kill})`;
  if (result.outcome === "cancelled") return `cancelled after ${formatDuration(result.durationMs)} (${kill})`;
  if (result.signal) return `killed by ${result.signal} after ${formatDuration(result.durationMs)}`;
  return `exit ${result.exitCode} after ${formatDuration(result.durationMs)}`;
}

/** The last N lines, each capped, kept as bytes until asked for. */
class Tail {
  private kept: Array<{ line: Buffer; dropped: number }> = [];
  constructor(private readonly size: number) {}

  push(line: Buffer, dropped: number): void {
    if (this.size <= 0) return;
    const cut = line.length > TAIL_LINE_CAP ? line.length - TAIL_LINE_CAP : 0;
    // Copied: `line` may be a view into a 64 KiB chunk.
    this.kept.push({ line: Buffer.from(line.subarray(0, line.length - cut)), dropped: dropped + cut });
    if (this.kept.length > this.size) this.kept.shift();
  }

  lines(): string[] {
    return this.kept.map(({ line, dropped }) => decodeLine(line, dropped));
  }
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<unknown[]> {
  return new Promise((resolve) => emitter.once(event, (...values: unknown[]) => resolve(values)));
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
