import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { gitServer, keepAlive } from "./run-git.js";

/** An object as `git cat-file --batch` gives it: its id, its type and its bytes. */
export interface GitObject {
  id: string;
  type: string;
  content: Buffer;
}

/**
 * Objects read by one long-lived `git cat-file --batch` per repository instead of a process per
 * question (issue 32: the trees a step's commit and a join edit, a commit's tree). Questions are
 * pipelined: each answer is the next one on stdout, in the order asked. `name` is an object id or
 * a revision such as `<commit>^{tree}`; undefined when git has no such object, or the reader
 * ended (the caller then asks the way it always did).
 */
export async function readObject(cwd: string, name: string): Promise<GitObject | undefined> {
  if (name.includes("\n") || name.trim() !== name || name === "") return undefined;
  let reader = readers.get(cwd);
  if (reader === undefined || reader.dead) readers.set(cwd, (reader = new ObjectReader(cwd)));
  return reader.read(name).catch(() => undefined);
}

/** Starts `cwd`'s reader before its first question (a run's set-up: off the steps' way). */
export function warmReader(cwd: string): void {
  if (readers.get(cwd)?.dead === false) return;
  try {
    readers.set(cwd, new ObjectReader(cwd));
  } catch {
    // Started when first asked, or the question goes to git.
  }
}

/** Ends the readers (tests; ws itself leaves them to end with it: their stdin closes). */
export function stopReaders(): void {
  for (const reader of readers.values()) reader.stop();
  readers.clear();
}

const readers = new Map<string, ObjectReader>();

type Waiting = (answer: GitObject | undefined | Error) => void;

class ObjectReader {
  dead = false;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Waiting[] = [];
  private buffered: Buffer = Buffer.alloc(0);

  constructor(cwd: string) {
    // Objects read as every other git of ws reads them (replace refs included), never fetched from a
    // promisor remote of a partial clone: ws talks to no remote (git before 2.44 ignores the variable).
    this.child = gitServer(cwd, ["cat-file", "--batch"], { GIT_NO_LAZY_FETCH: "1" }, () => this.end());
    this.child.stdout.on("data", (chunk: Buffer) => this.take(chunk));
  }

  read(name: string): Promise<GitObject | undefined> {
    if (this.dead) return Promise.reject(new Error("the object reader has ended"));
    return new Promise<GitObject | undefined>((resolve, reject) => {
      this.waiting.push((answer) => (answer instanceof Error ? reject(answer) : resolve(answer)));
      keepAlive(this.child, true);
      this.child.stdin.write(`${name}\n`);
    });
  }

  /** Answers as they come: `<id> <type> <size>\n<content>\n`, or `<name> missing\n` (or ambiguous). */
  private take(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const newline = this.buffered.indexOf(10);
      if (newline < 0) return;
      const header = this.buffered.subarray(0, newline).toString("latin1");
      const fields = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
      let answer: GitObject | undefined;
      let used = newline + 1;
      if (fields !== null) {
        const size = Number(fields[3]);
        if (this.buffered.length < newline + 1 + size + 1) return;
        answer = { id: fields[1]!, type: fields[2]!, content: Buffer.from(this.buffered.subarray(newline + 1, newline + 1 + size)) };
        used = newline + 1 + size + 1;
      }
      this.buffered = this.buffered.subarray(used);
      this.waiting.shift()?.(answer);
      if (this.waiting.length === 0) keepAlive(this.child, false);
    }
  }

  private end(): void {
    if (this.dead) return;
    this.dead = true;
    for (const waiting of this.waiting.splice(0)) waiting(new Error("the object reader has ended"));
  }

  stop(): void {
    this.end();
    this.child.stdin.end();
  }
}
