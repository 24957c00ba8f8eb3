import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { UserError } from "../errors.js";
import { wsPaths } from "../store/paths.js";
import { attemptLogs, lastRun, lastRunLogOffset, type LastRun } from "../store/query.js";
import { didYouMean } from "../workstream/suggest.js";
import { formatReason } from "../events/end-reason.js";

export interface LogsOptions {
  wsId: string;
  step?: string;
  attempt?: number;
  follow?: boolean;
  /** Without --step: every run's lines, not only the last run's. */
  all?: boolean;
}

/** A part of a file to print: from `start` (bytes) to its end. */
export interface LogPart {
  file: string;
  start: number;
}

/** Why a step of the last run has no output: it never started, and the run says why. */
function noOutputReason(run: LastRun | undefined, step: string): string | undefined {
  const record = run?.state.steps[step];
  if (!record || record.attempts > 0) return undefined;
  if (record.state === "skipped") return "was skipped in the last run (its `when` condition was false): it ran nothing";
  if (record.state === "blocked") return `did not run in the last run: ${record.reason ? formatReason(record.reason) : "blocked"}`;
  if (!record.selected) return "was not selected in the last run (--only / --from / --resume left it out)";
  return `has not started yet (${record.state})`;
}

/** The files `ws logs` shows: the orchestrator log (last run only by default), or one attempt's tool log followed by its test logs. */
export function logParts(cwd: string, options: LogsOptions): LogPart[] {
  const paths = wsPaths(cwd, options.wsId);
  const run = lastRun(cwd, options.wsId);
  if (options.step === undefined) return [{ file: paths.log, start: options.all ? 0 : lastRunLogOffset(cwd, options.wsId) }];
  const step = options.step;
  const status = `see which steps ran with: ws status ${options.wsId}`;
  if (run && !(step in run.state.steps)) {
    const hint = didYouMean(step, run.state.order);
    throw new UserError(`unknown step "${step}" in ${options.wsId}`, { fix: hint ? `${hint} (steps: ${run.state.order.join(", ")})` : `steps: ${run.state.order.join(", ")}` });
  }
  const found = attemptLogs(cwd, options.wsId, step, options.attempt);
  if (found.kind === "no-logs") {
    const why = noOutputReason(run, step);
    throw new UserError(`step "${step}" of ${options.wsId} ${why ?? "has no logs yet"}`, { fix: status });
  }
  if (found.kind === "no-attempt") throw new UserError(`step "${step}" has no attempt ${found.attempt}`, { fix: `attempts logged: ${found.attempts.join(", ")}` });
  return found.files.map((file) => ({ file, start: 0 }));
}

export async function logsCommand(options: LogsOptions, ctx: CliContext): Promise<number> {
  if (options.follow && options.step !== undefined && options.attempt === undefined) {
    const follow = followedStep(ctx.cwd, options.wsId, options.step);
    if (follow) return followStep(ctx, options.wsId, options.step, follow);
  }
  const parts = logParts(ctx.cwd, options);
  const first = parts[0]!;
  if (!fs.existsSync(first.file)) {
    throw new UserError(`${options.wsId} has not run yet: no ${path.relative(ctx.cwd, first.file)}`, { fix: `start it with: ws run ${options.wsId}` });
  }
  for (const part of parts) {
    if (parts.length > 1) ctx.stdout.write(`==> ${path.relative(ctx.cwd, part.file)} <==\n`);
    await pipeFile(part.file, ctx.stdout, part.start, !ctx.color);
  }
  if (!options.follow) return 0;
  // tail -f: keep printing what is appended to the last file until the run ends or Ctrl-C.
  const { readLockHolder } = await import("../store/lock.js");
  const lock = wsPaths(ctx.cwd, options.wsId).lock;
  const file = parts[parts.length - 1]!.file;
  let offset = fs.statSync(file).size;
  let stop = false;
  const onSignal = () => (stop = true);
  process.once("SIGINT", onSignal);
  try {
    while (!stop && !ctx.stdoutClosed()) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      if (size > offset) {
        await pipeFile(file, ctx.stdout, offset, !ctx.color);
        offset = size;
      } else if (!readLockHolder(lock)?.alive) break;
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
  return 0;
}

/**
 * `ws logs --follow --step S` of a step the live run has still to end: from its current attempt
 * (or the next, for one that has not started in this run), undefined otherwise (it ended, the run
 * is gone, or the step is not in it: the logs are shown as they are, errors as without --follow).
 */
function followedStep(cwd: string, wsId: string, step: string): { firstAttempt: number } | undefined {
  const run = lastRun(cwd, wsId);
  const record = run && Object.hasOwn(run.state.steps, step) ? run.state.steps[step] : undefined;
  if (!run || run.interrupted || run.state.status !== "running" || !record?.selected) return undefined;
  if (record.state === "running") return { firstAttempt: Math.max(1, record.attempts) };
  return record.state === "pending" ? { firstAttempt: record.attempts + 1 } : undefined;
}

/** The step's log files of attempts from `first` on, in the order ws writes them: each attempt's tool log, then its tests'. */
function stepFiles(cwd: string, wsId: string, step: string, first: number): string[] {
  const dir = wsPaths(cwd, wsId).stepDir(step);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return []; // not started yet
  }
  const keyed: Array<{ name: string; attempt: number; test: number }> = [];
  for (const name of names) {
    const m = /^attempt-(\d+)(?:\.test-(\d+))?\.log$/.exec(name);
    if (m && Number(m[1]) >= first) keyed.push({ name, attempt: Number(m[1]), test: m[2] === undefined ? 0 : Number(m[2]) });
  }
  keyed.sort((a, b) => a.attempt - b.attempt || a.test - b.test);
  return keyed.map((k) => path.join(dir, k.name));
}

/**
 * Streams a running step's output as ws writes it: its attempt's log, then its tests' logs, and
 * into its next attempt's, until the step ends (its step-end in events.jsonl) or the run does
 * (run-end, or its process is gone: kill -9 writes no event). Each file is read up to the size
 * seen, so a line written meanwhile is printed once, by the next read.
 */
async function followStep(ctx: CliContext, wsId: string, step: string, from: { firstAttempt: number }): Promise<number> {
  const { readLockHolder } = await import("../store/lock.js");
  const { EventTail } = await import("../store/event-log.js");
  const paths = wsPaths(ctx.cwd, wsId);
  const events = new EventTail(paths.events);
  // Said on stderr, so the output stays the step's own: an empty screen is not a hang.
  if (stepFiles(ctx.cwd, wsId, step, from.firstAttempt).length === 0) ctx.stderr.write(`${step} has not started yet in the running run; waiting for its output (Ctrl-C stops)\n`);
  let ended = false;
  let current: string | undefined;
  let offset = 0;
  let printed = 0;
  const copy = async (file: string): Promise<void> => {
    if (file !== current) {
      if (printed > 0) ctx.stdout.write(`==> ${path.relative(ctx.cwd, file)} <==\n`);
      current = file;
      offset = 0;
      printed++;
    }
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    if (size > offset) await pipeFile(file, ctx.stdout, offset, !ctx.color, size - 1);
    offset = Math.max(offset, size);
  };
  let stop = false;
  const onSignal = () => (stop = true);
  process.once("SIGINT", onSignal);
  try {
    while (!stop && !ctx.stdoutClosed()) {
      for (const event of events.read()) {
        // The events of earlier runs are read first: only the last run's end counts.
        if (event.type === "run-start") ended = false;
        else if (event.type === "run-end" || (event.type === "step-end" && event.step === step)) ended = true;
      }
      if (!ended && !readLockHolder(paths.lock)?.alive) ended = true;
      // Every file from the current one on: a newer file means the current one is complete.
      const files = stepFiles(ctx.cwd, wsId, step, from.firstAttempt);
      const at = current === undefined ? 0 : Math.max(0, files.indexOf(current));
      for (const file of files.slice(at)) await copy(file);
      if (ended) return 0;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
  return 0;
}

/** `plain`: without the tool's escape codes (piped, NO_COLOR, --no-color); the file keeps them. `end`: the last byte to copy. */
async function pipeFile(file: string, to: NodeJS.WritableStream, start: number, plain: boolean, end?: number): Promise<void> {
  const { stripAnsiStream } = plain ? await import("../format/ansi.js") : { stripAnsiStream: undefined };
  return new Promise((resolve, reject) => {
    const read = fs.createReadStream(file, { start, end });
    const stream = stripAnsiStream ? read.pipe(stripAnsiStream()) : read;
    if (stream !== read) read.on("error", (error) => stream.destroy(error));
    // A reader that went away (`ws logs | head`) ends the copy: the rest is not wanted.
    const onClosed = () => {
      read.destroy();
      stream.destroy();
      resolve();
    };
    to.once("error", onClosed);
    stream.on("error", (error: Error) => {
      to.off("error", onClosed);
      reject(error);
    });
    stream.on("end", () => {
      to.off("error", onClosed);
      resolve();
    });
    stream.pipe(to, { end: false });
  });
}
