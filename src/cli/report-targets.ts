import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";

/**
 * The files a run writes its reports to, checked before any step starts: finding out after an
 * hour of steps that `--junit` names a folder (or GITHUB_STEP_SUMMARY a directory) loses the
 * report and ends the run in an error. Best effort: the final write still reports what it hits.
 */
export function checkReportTarget(file: string, what: string): void {
  const fail = (problem: string, fix: string) => new UserError(`${what} ${file} ${problem}`, { fix });
  const stat = statOf(file);
  if (stat?.isDirectory()) throw fail("is a folder, not a file", `name a file, e.g. ${path.join(file, "report")}`);
  if (stat) {
    if (!stat.isFile()) return; // /dev/stdout and the like: writable by design
    if (!canWrite(file)) throw fail("cannot be written (no write permission)", "fix its permissions or choose another path");
    return;
  }
  // The file does not exist yet: its nearest existing ancestor must be a folder we may create in.
  let dir = path.dirname(file);
  for (;;) {
    const parent = statOf(dir);
    if (parent) {
      if (!parent.isDirectory()) throw fail(`cannot be created: ${dir} is a file, not a folder`, "choose a path inside a folder");
      if (!canWrite(dir)) throw fail(`cannot be created: no write permission in ${dir}`, "choose a path in a folder you can write to");
      return;
    }
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/** undefined for a path that does not exist, also when a file sits where a folder of it should be. */
function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new UserError(`cannot check ${file} (${code ?? String(error)})`, { fix: "choose another path" });
  }
}

function canWrite(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
