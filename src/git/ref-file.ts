import fs from "node:fs";
import path from "node:path";

/**
 * A ref file moved to `to` by git's own lock protocol (`<file>.lock` made exclusively, checked,
 * renamed over the file), the way update-ref does it, without a git process. False when it cannot
 * be done here, for update-ref to do instead: the lock is held (git is writing that ref now), the
 * ref is not at `from` (moved, or packed), or the folder cannot be made.
 */
export function writeRefFile(file: string, to: string, opts: { from?: string; reflog?: { file: string; line: string }; makeFolder?: boolean } = {}): boolean {
  const lock = `${file}.lock`;
  try {
    if (opts.makeFolder === true) fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(lock, `${to}\n`, { flag: "wx" });
  } catch {
    return false;
  }
  try {
    if (opts.from !== undefined && fs.readFileSync(file, "utf8").trim() !== opts.from) throw new Error("moved or packed");
    if (opts.reflog !== undefined && fs.existsSync(opts.reflog.file)) fs.appendFileSync(opts.reflog.file, opts.reflog.line);
    fs.renameSync(lock, file);
    return true;
  } catch {
    fs.rmSync(lock, { force: true });
    return false;
  }
}
