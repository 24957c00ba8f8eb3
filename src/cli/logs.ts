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

/** `plain`: without the tool's escape codes (piped, NO_COLOR, --no-color); the file keeps them. */
async function pipeFile(file: string, to: NodeJS.WritableStream, start: number, plain: boolean): Promise<void> {
  const { stripAnsiStream } = plain ? await import("../format/ansi.js") : { stripAnsiStream: undefined };
  return new Promise((resolve, reject) => {
    const read = fs.createReadStream(file, { start });
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
