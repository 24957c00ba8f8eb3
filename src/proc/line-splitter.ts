/**
 * Cuts a byte stream into lines without holding more than `cap` bytes of the current line: a
 * child printing a 1 GB line costs `cap` bytes, not 1 GB. Bytes past the cap are only counted.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly cap: number,
    /** `line` may be a view into the chunk: copy it to keep it. CR of a CRLF is removed. */
    private readonly emit: (line: Buffer, dropped: number) => void,
    /**
     * Set when the consumer keeps only the last `lastOnly` lines: a chunk's earlier lines are
     * skipped unread. A step printing 500 MB of short lines otherwise made millions of
     * short-lived line objects, and the young generation grew by tens of MB (bench/: memory).
     */
    private readonly lastOnly?: number,
  ) {}

  push(chunk: Buffer): void {
    let start = this.lastOnly === undefined ? 0 : this.skipped(chunk);
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, nl), false);
      this.flush();
      start = nl + 1;
    }
    // The unfinished rest is copied so the (64 KiB) chunk it came from can be freed.
    if (start < chunk.length) this.take(chunk.subarray(start), true);
  }

  /** Where the chunk's last `lastOnly` lines (complete or not) start; what came before is forgotten. */
  private skipped(chunk: Buffer): number {
    let nl = chunk.length;
    for (let k = 0; k <= this.lastOnly!; k++) {
      nl = nl > 0 ? chunk.lastIndexOf(10, nl - 1) : -1;
      if (nl === -1) return 0;
    }
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    return nl + 1;
  }

  /** End of stream: an unterminated last line is still a line. */
  end(): void {
    if (this.kept > 0 || this.dropped > 0) this.flush();
  }

  private take(segment: Buffer, copy: boolean): void {
    const room = this.cap - this.kept;
    const piece = segment.length > room ? segment.subarray(0, room) : segment;
    if (piece.length > 0) {
      this.parts.push(copy ? Buffer.from(piece) : piece);
      this.kept += piece.length;
    }
    this.dropped += segment.length - piece.length;
  }

  private flush(): void {
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept);
    if (this.dropped === 0 && line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, -1);
    const dropped = this.dropped;
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    this.emit(line, dropped);
  }
}

/** UTF-8 with replacement characters, plus a marker when the line was cut. */
export function decodeLine(line: Buffer, dropped: number): string {
  const text = line.toString("utf8");
  return dropped > 0 ? `${text} … [${dropped} more bytes]` : text;
}
