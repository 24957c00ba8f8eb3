import fs from "node:fs";

/**
 * The last or first `bytes` of a file the store holds (a step's log, its $WS_PROGRESS file, a
 * leftover patch), read without loading the rest: a step that appends a line per item must not
 * make each poll slower. Undefined when the file cannot be opened (not written yet). `cut`: the
 * file holds more than what was read, so the piece's first (tail) or last (head) line may be partial.
 */
export function readTail(file: string, bytes: number): { text: string; cut: boolean } | undefined {
  return withFile(file, (fd) => {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    return { text: buffer.toString("utf8"), cut: size > length };
  });
}

export function readHead(file: string, bytes: number): { text: string; cut: boolean } | undefined {
  return withFile(file, (fd) => {
    const buffer = Buffer.alloc(bytes + 1);
    const read = fs.readSync(fd, buffer, 0, bytes + 1, 0);
    return { text: buffer.subarray(0, Math.min(read, bytes)).toString("utf8"), cut: read > bytes };
  });
}

function withFile<T>(file: string, read: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    return read(fd);
  } finally {
    fs.closeSync(fd);
  }
}
