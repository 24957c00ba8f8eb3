import fs from "node:fs";
import path from "node:path";
import type { RunEvent } from "../events/run-event.js";
import { storeError } from "./store-error.js";

/**
 * events.jsonl: one JSON object per line, appended with one synchronous write per event on an
 * O_APPEND descriptor, so a kill -9 of ws loses at most the line being written (the kernel keeps
 * what write() returned, no fsync needed for a process crash).
 */
export class EventLog {
  private constructor(
    private readonly file: string,
    private fd: number | undefined,
  ) {}

  /** Creates the folders. Throws a UserError naming the path when it cannot. */
  static open(file: string): EventLog {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const fd = fs.openSync(file, "a+");
      // A torn last line from a crash must not swallow the first event of this run.
      if (!endsWithNewline(fd)) fs.writeSync(fd, "\n");
      return new EventLog(file, fd);
    } catch (error) {
      throw storeError("write the event log", file, error);
    }
  }

  append(event: RunEvent): void {
    if (this.fd === undefined) throw new Error(`EventLog.append after close: ${this.file}`);
    const data = Buffer.from(JSON.stringify(event) + "\n");
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(this.fd, data, off);
    } catch (error) {
      throw storeError("write the event log", this.file, error);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }
}

function endsWithNewline(fd: number): boolean {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  return last[0] === 10;
}

/**
 * Every event of the file. A line that is not a whole event (the torn last line of a crashed run,
 * or such a line closed off by the next run) is skipped and reported as `torn`; a missing file is
 * an empty log.
 */
export function readEvents(file: string): { events: RunEvent[]; torn: boolean } {
  let text: string;
  try {
    // A device or FIFO in its place (/dev/full, /dev/zero) would be read forever: it holds no run.
    if (!fs.statSync(file).isFile()) return { events: [], torn: false };
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { events: [], torn: false };
    throw storeError("read the event log", file, error);
  }
  const events: RunEvent[] = [];
  let torn = false;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const event = parseEvent(line);
    if (event) events.push(event);
    else torn = true;
  }
  return { events, torn };
}

function parseEvent(line: string): RunEvent | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null) return undefined;
    const { type, at } = value as { type?: unknown; at?: unknown };
    return typeof type === "string" && typeof at === "string" ? (value as RunEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * events.jsonl read as it grows, for a reader in another process (`ws status --watch`): each
 * `read` returns the whole lines appended since the last one. A line still being written (no
 * newline yet) waits for the next read; a file that shrank (`ws clean`, a new state folder) is
 * read again from its start.
 */
export class EventTail {
  private offset = 0;

  constructor(private readonly file: string) {}

  read(): RunEvent[] {
    let fd: number;
    try {
      fd = fs.openSync(this.file, "r");
    } catch {
      return [];
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) this.offset = 0;
      if (size === this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      const got = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      const end = buffer.lastIndexOf(10, got - 1);
      if (end < 0) return [];
      this.offset += end + 1;
      const events: RunEvent[] = [];
      for (const line of buffer.subarray(0, end).toString("utf8").split("\n")) {
        const event = line.trim() === "" ? undefined : parseEvent(line);
        if (event) events.push(event);
      }
      return events;
    } finally {
      fs.closeSync(fd);
    }
  }
}
