import fs from "node:fs";
import path from "node:path";
import { storeError } from "./store-error.js";

/** orchestrator.log: human lines, each with an ISO timestamp, appended synchronously (tail -f friendly). */
export class RunLog {
  private constructor(
    private readonly file: string,
    private fd: number | undefined,
  ) {}

  /** Creates the folders. Throws a UserError naming the path when it cannot. */
  static open(file: string): RunLog {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      return new RunLog(file, fs.openSync(file, "a"));
    } catch (error) {
      throw storeError("write the run log", file, error);
    }
  }

  /** Every line of a multi-line text gets the timestamp, so the file stays one event per line. */
  line(text: string): void {
    if (this.fd === undefined) throw new Error(`RunLog.line after close: ${this.file}`);
    const at = new Date().toISOString();
    const data = text
      .split(/\r?\n/)
      .map((l) => `${at} ${l}\n`)
      .join("");
    try {
      fs.writeSync(this.fd, data);
    } catch (error) {
      throw storeError("write the run log", this.file, error);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }
}
