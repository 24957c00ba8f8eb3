import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { gitServer, gitText, keepAlive } from "./run-git.js";

/**
 * Commit objects written by one long-lived `git hash-object -w -t commit --stdin-paths` per
 * object store instead of a `git commit-tree` each (issue 32: a step's commit, its join onto the
 * run's branch and a dependent's join each made one, 3-4 ms apiece on a loaded machine; a line
 * to a running git is ~0.1 ms). The object is the one commit-tree writes: git checks its format
 * before it writes it. Anything commit-tree would do differently falls back to commit-tree: a
 * date or identity set through the environment in a form ws does not write itself, an identity
 * git would clean up, a git that cannot be started.
 *
 * The commit's id is named in process (the hash of its bytes, as git names it) and returned once
 * git has written it and every tree handed over before it (writeTreeLater): whatever a commit id
 * leads a git process to (a ref, a checkout) is in the store by then.
 */
export async function makeCommit(cwd: string, tree: string, parents: readonly string[], message: string, env: Record<string, string>): Promise<string> {
  const text = commitText(tree, parents, message, env);
  if (text !== undefined) {
    const content = Buffer.from(text, "utf8");
    const id = objectId("commit", content, tree.length);
    writeLater(cwd, "commit", content, id, env);
    await Promise.all([flushObjects(cwd), flushObjects(cwd, env)]);
    return id;
  }
  // commit-tree reads the tree: it must be written first.
  await flushObjects(cwd);
  const args = ["commit-tree", tree, "--no-gpg-sign", "-F", "-", ...parents.flatMap((p) => ["-p", p])];
  return gitText(cwd, args, { input: message, env });
}

/** The id git gives an object of `type` and `content` in a store whose ids have `hexLength` digits (SHA-1 or SHA-256). */
export function objectId(type: string, content: Buffer, hexLength: number): string {
  const hash = createHash(hexLength === 64 ? "sha256" : "sha1");
  hash.update(`${type} ${content.length}\0`);
  hash.update(content);
  return hash.digest("hex");
}

/** Objects handed to a writer and not yet confirmed, per object store: each settles once git has it. */
const unconfirmed = new Map<string, Set<Promise<void>>>();

/**
 * A tree's bytes handed to the long-lived writer of `cwd`'s store, its id named in process and
 * returned at once: the trees of a commit go to git one after another without waiting for each
 * answer, and the commit that names them (makeCommit) waits for all (one wait instead of one a tree).
 */
export function writeTreeLater(cwd: string, content: Buffer, hexLength: number): string {
  const id = objectId("tree", content, hexLength);
  writeLater(cwd, "tree", content, id, {});
  return id;
}

function writeLater(cwd: string, type: "tree" | "commit", content: Buffer, id: string, env: Record<string, string>): void {
  const key = `${cwd}\0${env.GIT_OBJECT_DIRECTORY ?? ""}`;
  let set = unconfirmed.get(key);
  if (set === undefined) unconfirmed.set(key, (set = new Set()));
  const objects: Record<string, string> = env.GIT_OBJECT_DIRECTORY === undefined ? {} : { GIT_OBJECT_DIRECTORY: env.GIT_OBJECT_DIRECTORY };
  const answer = (async () => writerFor(cwd, objects, type).write(content))().catch(() => undefined);
  const written: Promise<void> = answer.then(async (named) => {
    // The writer ended (or git named it otherwise): a git of its own writes it, and must name it the same.
    if (named === id) return;
    const again = await gitText(cwd, ["hash-object", "-w", "-t", type, "--stdin"], { input: content, env: objects });
    if (again !== id) throw new Error(`git named a ${type} ${again} that ws named ${id}`);
  });
  const settled = written.finally(() => set.delete(settled));
  settled.catch(() => undefined);
  set.add(settled);
}

/** Waits until every object handed over for `cwd`'s store so far is written (throws when git could not write one). */
export async function flushObjects(cwd: string, env: Record<string, string> = {}): Promise<void> {
  await Promise.all([...(unconfirmed.get(`${cwd}\0${env.GIT_OBJECT_DIRECTORY ?? ""}`) ?? [])]);
}

/** Characters git strips from the ends of a name or email, or refuses inside one ("crud"). */
const CRUD = /^[\s.,:;<>"\\']|[\s.,:;<>"\\']$|[<>\n\0]/;

/** The commit as commit-tree would write it now, or undefined when ws should leave it to commit-tree. */
function commitText(tree: string, parents: readonly string[], message: string, env: Record<string, string>): string | undefined {
  const value = (name: string) => env[name] ?? process.env[name];
  if (value("GIT_AUTHOR_DATE") || value("GIT_COMMITTER_DATE")) return undefined;
  const people: string[] = [];
  for (const role of ["AUTHOR", "COMMITTER"]) {
    const name = value(`GIT_${role}_NAME`);
    const email = value(`GIT_${role}_EMAIL`);
    if (!name || !email || CRUD.test(name) || CRUD.test(email)) return undefined;
    people.push(`${name} <${email}> ${when(new Date())}`);
  }
  const head = [`tree ${tree}`, ...parents.map((p) => `parent ${p}`), `author ${people[0]}`, `committer ${people[1]}`];
  return `${head.join("\n")}\n\n${message}`;
}

/** Seconds since the epoch and the local offset, as git writes a date (`1700000000 +0100`). */
export function when(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
  return `${Math.floor(date.getTime() / 1000)} ${zone}`;
}

const writers = new Map<string, ObjectWriter>();

// The writers' files live in the OS temp folder: gone with ws, however it exits normally.
process.once("exit", () => {
  for (const writer of writers.values()) writer.removeFile();
});

/**
 * What a writer writes: a commit's or a tree's bytes (handed over in a file), or a file's blob by
 * its path, either as its exact bytes (`blob`: a snapshot, which a restore writes back as it was)
 * or as `git add` would store it (`checkin`: the filters and line endings its attributes name).
 */
type WriterKind = "commit" | "tree" | "blob" | "checkin";

function writerFor(cwd: string, env: Record<string, string>, kind: WriterKind = "commit"): ObjectWriter {
  const objects = env.GIT_OBJECT_DIRECTORY ?? "";
  const key = `${kind}\0${cwd}\0${objects}`;
  let writer = writers.get(key);
  if (writer === undefined || writer.dead) writers.set(key, (writer = new ObjectWriter(cwd, kind, objects === "" ? {} : { GIT_OBJECT_DIRECTORY: objects })));
  return writer;
}

/**
 * The blobs of files in the work tree holding `cwd` (their exact bytes: no filters), written into
 * its object store by one long-lived `hash-object --stdin-paths` per folder instead of a process
 * per look at a tree (changes.ts). `files` are relative to the work tree's top: git reads the
 * paths it is fed there, wherever it was started. Undefined when a path cannot go on a line (a
 * newline, a leading quote) or the writer failed (a file gone meanwhile ends it): the caller then
 * hashes them the usual way.
 */
export async function hashBlobs(cwd: string, files: readonly string[]): Promise<string[] | undefined> {
  return writeBlobs(cwd, files, "blob", {});
}

/**
 * The blobs `git update-index --add` would store for `files` (relative to the top of the work
 * tree holding `cwd`): the same code in git (the path's attributes, core.autocrlf), objects
 * written where `env` says (a lane writes into the user's store). Undefined as for hashBlobs.
 */
export async function checkInBlobs(cwd: string, files: readonly string[], env: Record<string, string>): Promise<string[] | undefined> {
  return writeBlobs(cwd, files, "checkin", env);
}

async function writeBlobs(cwd: string, files: readonly string[], kind: "blob" | "checkin", env: Record<string, string>): Promise<string[] | undefined> {
  if (files.some((file) => file.includes("\n") || file.startsWith('"'))) return undefined;
  const writer = writerFor(cwd, env, kind);
  try {
    // Pipelined: every path goes to git at once, the answers come back in order.
    return await Promise.all(files.map((file) => writer.write(file)));
  } catch {
    return undefined;
  }
}

/**
 * Starts the long-lived gits a run's commits and joins go through before the first step needs
 * them (a process start is 2-4 ms, on the way from the first step's tests to its end otherwise):
 * the commit and tree writers of the user's repository, or a lane's blob writer (`lane`).
 */
export function warmWriters(cwd: string, lane?: { env: Record<string, string> }): void {
  try {
    if (lane === undefined) for (const kind of ["commit", "tree"] as const) writerFor(cwd, {}, kind);
    else writerFor(cwd, lane.env, "checkin");
  } catch {
    // Started again when first needed, or the work goes to git the usual way.
  }
}

const WRITER_ARGS: Record<WriterKind, readonly string[]> = {
  commit: ["-t", "commit", "--no-filters"],
  tree: ["-t", "tree", "--no-filters"],
  blob: ["-t", "blob", "--no-filters"],
  checkin: [],
};

/**
 * One `hash-object -w --stdin-paths`, its answers in the order asked, so objects are pipelined: a
 * commit or a tree is handed over in a file of its own (removed once git has answered), a blob by
 * its file's path.
 */
class ObjectWriter {
  dead = false;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly dir: string | undefined;
  private made = 0;
  private readonly waiting: Array<(line: string | undefined) => void> = [];
  private buffered = "";

  constructor(cwd: string, kind: WriterKind, env: Record<string, string>) {
    this.dir = kind === "commit" || kind === "tree" ? fs.mkdtempSync(path.join(os.tmpdir(), `ws-${kind}-`)) : undefined;
    this.child = gitServer(cwd, ["hash-object", "-w", ...WRITER_ARGS[kind], "--stdin-paths"], env, () => this.stop());
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.take(chunk));
  }

  /** The id of the object: a commit's text or a tree's bytes, or a file's path. */
  write(what: string | Buffer): Promise<string> {
    if (this.dead) return Promise.reject(new Error("the object writer has ended"));
    const file = this.dir === undefined ? undefined : path.join(this.dir, String(++this.made));
    if (file !== undefined) fs.writeFileSync(file, what);
    keepAlive(this.child, true);
    return new Promise<string>((resolve, reject) => {
      this.waiting.push((line) => {
        if (file !== undefined) fs.rmSync(file, { force: true });
        if (this.waiting.length === 0) keepAlive(this.child, false);
        if (line !== undefined && /^[0-9a-f]{40,64}$/.test(line)) resolve(line);
        else reject(new Error("the object writer gave no object id"));
      });
      this.child.stdin.write(`${file ?? what.toString()}\n`);
    });
  }

  private take(chunk: string): void {
    this.buffered += chunk;
    for (let newline = this.buffered.indexOf("\n"); newline >= 0; newline = this.buffered.indexOf("\n")) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      this.waiting.shift()?.(line);
    }
  }

  private stop(): void {
    if (this.dead) return;
    this.dead = true;
    for (const waiting of this.waiting.splice(0)) waiting(undefined);
    this.removeFile();
  }

  removeFile(): void {
    if (this.dir !== undefined) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
