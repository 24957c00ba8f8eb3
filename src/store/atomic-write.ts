import fs from "node:fs";

let serial = 0;

/**
 * `data` into `file`, whole or not at all: written to a temporary file beside it, then renamed
 * over it, so a reader sees the old file or the new one, never half of one. With `fsync` (the
 * default) the data is on disk before the rename: a crash cannot leave an empty file where the
 * old one was.
 *
 * In place of the write-file-atomic package, whose loading cost a one-step run ~13 ms and 3.7 MB
 * (it loads worker_threads and signal-exit; bench/NOTES.md, issue 32). What it does beyond this
 * is not needed for ws's own files: it keeps an existing file's owner and mode, and removes its
 * temporary files when a signal ends the process, which cannot happen in the middle of this
 * synchronous write (a signal's handler runs only after it). A kill -9 mid-write leaves a
 * `<file>.<pid>.<n>.tmp` beside the file, as it would with the package.
 */
export function writeFileAtomicSync(file: string, data: string, options: { fsync?: boolean } = {}): void {
  const temp = `${file}.${process.pid}.${++serial}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, "wx");
    fs.writeFileSync(fd, data);
    if (options.fsync !== false) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
}
