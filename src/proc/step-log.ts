import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";

export type OutputStream = "stdout" | "stderr";

/** The folder is made only when missing: one system call per attempt's log instead of three. */
function openAppend(file: string): number {
  try {
    return fs.openSync(file, "a");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return fs.openSync(file, "a");
  }
}

const TAGS: Record<OutputStream, string> = { stdout: "out", stderr: "err" };

let shared = Buffer.alloc(0);

/**
 * One attempt's output file: a `#` header, every output line prefixed with a UTC time and its
 * stream (`12:01:02.345 out| text`), a `#` footer. Chunks are written through synchronously as
 * they arrive, so memory stays flat whatever the child prints: while a write blocks, the pipe
 * is not read and the child waits. Bytes are written as they are (binary output included).
 */
export class StepLog {
  /** The stream whose line is unterminated in the file (the next chunk of the other one starts a new line). */
  private openLine: OutputStream | undefined;
  private failure: UserError | undefined;

  private constructor(
    private readonly file: string,
    private fd: number | undefined,
  ) {}

  /** Creates the folder; appends when the file exists. Throws a UserError naming the path. */
  static open(file: string, header: string): StepLog {
    let fd: number;
    try {
      fd = openAppend(file);
    } catch (error) {
      throw logError(file, error);
    }
    const log = new StepLog(file, fd);
    log.note(header);
    return log;
  }

  /** The first write error, if any (writing stops after it; the child's output is still drained). */
  get error(): UserError | undefined {
    return this.failure;
  }

  write(chunk: Buffer, stream: OutputStream): void {
    // One timestamp per chunk: the lines of a chunk arrived together. Lines are copied with their
    // prefixes into one reused buffer: a view and a list entry per line made millions of
    // short-lived objects when a step printed 500 MB of short lines (bench/: memory).
    const prefix = Buffer.from(`${clock()} ${TAGS[stream]}| `);
    let lines = 1;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, nl + 1)) lines += 1;
    const out = this.scratch(chunk.length + lines * prefix.length + 1);
    let at = 0;
    if (this.openLine !== undefined && this.openLine !== stream) {
      out[at++] = 10;
      this.openLine = undefined;
    }
    let start = 0;
    while (start < chunk.length) {
      if (this.openLine === undefined) {
        at += prefix.copy(out, at);
        this.openLine = stream;
      }
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl + 1;
      at += chunk.copy(out, at, start, end);
      if (nl !== -1) this.openLine = undefined;
      start = end;
    }
    this.put(out.subarray(0, at));
  }

  /**
   * A buffer of at least `size` bytes, shared by every log of the process (chunks are 64 KiB at
   * most, mostly): write() fills and writes it synchronously, so no two users overlap, and a
   * 64 KiB allocation per attempt piled up outside V8's heap until a major GC (bench/: memory).
   */
  private scratch(size: number): Buffer {
    if (shared.length < size) shared = Buffer.allocUnsafe(Math.max(size, 64 * 1024));
    return shared;
  }

  /** A `# <ISO time> text` line (header, footer). */
  note(text: string): void {
    const lead = this.openLine === undefined ? "" : "\n";
    this.openLine = undefined;
    this.put(Buffer.from(`${lead}# ${new Date().toISOString()} ${text}\n`));
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } catch (error) {
      this.failure ??= logError(this.file, error);
    }
  }

  private put(data: Buffer): void {
    if (this.fd === undefined || this.failure) return;
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(this.fd, data, off);
    } catch (error) {
      // Disk full or the like: remember it and let the step end normally; the caller reports it.
      this.failure = logError(this.file, error);
    }
  }
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

function logError(file: string, error: unknown): UserError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UserError(`cannot write the step log ${file}: ${reason}`);
}
