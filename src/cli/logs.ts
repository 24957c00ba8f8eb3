import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { UserError } from "../errors.js";
import { wsPaths } from "../store/paths.js";

export interface LogsOptions {
  wsId: string;
  step?: string;
  attempt?: number;
  follow?: boolean;
}

/** The files `ws logs` shows: the orchestrator log, or one attempt's tool log followed by its test logs. */
export function logFiles(cwd: string, options: LogsOptions): string[] {
  const paths = wsPaths(cwd, options.wsId);
  if (options.step === undefined) return [paths.log];
  const dir = paths.stepDir(options.step);
  const attempts = fs.existsSync(dir)
    ? fs.readdirSync(dir).map((f) => /^attempt-(\d+)\.log$/.exec(f)?.[1]).filter((n): n is string => n !== undefined).map(Number)
    : [];
  if (attempts.length === 0) {
    throw new UserError(`step "${options.step}" of ${options.wsId} has no logs yet`, { fix: `see which steps ran with: ws status --ws-id ${options.wsId}` });
  }
  const attempt = options.attempt ?? Math.max(...attempts);
  if (!attempts.includes(attempt)) throw new UserError(`step "${options.step}" has no attempt ${attempt}`, { fix: `attempts logged: ${attempts.sort((a, b) => a - b).join(", ")}` });
  const tests = fs
    .readdirSync(dir)
    .map((f) => new RegExp(`^attempt-${attempt}\\.test-(\\d+)\\.log$`).exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  return [paths.attemptLog(options.step, attempt), ...tests.map((k) => paths.testLog(options.step!, attempt, k))];
}

export async function logsCommand(options: LogsOptions, ctx: CliContext): Promise<number> {
  const files = logFiles(ctx.cwd, options);
  const first = files[0]!;
  if (!fs.existsSync(first)) {
    throw new UserError(`${options.wsId} has not run yet: no ${path.relative(ctx.cwd, first)}`, { fix: `start it with: ws run --ws-id ${options.wsId}` });
  }
  for (const file of files) {
    if (files.length > 1) ctx.stdout.write(`==> ${path.relative(ctx.cwd, file)} <==\n`);
    await pipeFile(file, ctx.stdout);
  }
  if (!options.follow) return 0;
  // tail -f: keep printing what is appended to the last file until the run ends or Ctrl-C.
  const { readLockHolder } = await import("../store/lock.js");
  const lock = wsPaths(ctx.cwd, options.wsId).lock;
  const file = files[files.length - 1]!;
  let offset = fs.statSync(file).size;
  let stop = false;
  const onSignal = () => (stop = true);
  process.once("SIGINT", onSignal);
  try {
    while (!stop) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      if (size > offset) {
        await pipeFile(file, ctx.stdout, offset);
        offset = size;
      } else if (!readLockHolder(lock)?.alive) break;
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
  return 0;
}

function pipeFile(file: string, to: NodeJS.WritableStream, start = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = fs.createReadStream(file, { start });
    stream.on("error", reject);
    stream.on("end", () => resolve());
    stream.pipe(to, { end: false });
  });
}
