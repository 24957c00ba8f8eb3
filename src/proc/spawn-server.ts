import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { perlServerCommand } from "./server-perl.js";
import { pythonServerCommand } from "./server-python.js";

/**
 * The spawn server: one long-lived helper process that starts each attempt for ws, with no shell
 * in between. Node forks itself for every spawn (libuv copies ws's page tables, on the main
 * thread, and blocks there until the child has exec'd); with a server ws's main thread only writes
 * a record. Two helpers speak the same protocol: python3 starting each job with posix_spawn
 * (vfork: nothing copied; server-python.ts), and perl forking it (server-perl.ts). `WS_SPAWN`
 * picks the path (spawnServer below); the default was chosen by measurement (bench/NOTES.md).
 *
 * Protocol: ws writes one record per job, a line `<id> <length>` and then that many bytes of
 * fields separated by NUL bytes (no field can hold one: launch() refuses a NUL beforehand): `R`,
 * the job's stdin, stdout and stderr paths, its cwd, the program, argc, argv (argv[0] as given)
 * and its whole environment as `NAME=value`; or `F` and the paths of FIFOs to make; python also
 * takes `L`, a file to create (with its folder) before the job starts, then R's fields. The server
 * starts the job in a process group of its own, answers `S <id> <pid>` and, when it has been
 * reaped, `E <id> <status>` (128+n for signal n, as a shell reports it); python may answer
 * `X <id> <errno> <message>` instead when nothing could be started. The job's stdout and stderr
 * are FIFOs ws opened for reading beforehand, so ws still reads both streams apart (timestamped
 * log, tail, the agents' parsers) exactly as with a direct spawn. Timeouts and group kills stay in
 * ws (`process.kill(-pid)`): the server only starts and reaps. It reads its stdin from ws: when ws
 * dies, even by kill -9, the read ends and it SIGKILLs the group of every job still out, but for
 * those started by a `G` record (R's fields): ws's own gits, left to finish as a direct spawn's would.
 *
 * The server is started with an empty environment. Linux only: it relies on a FIFO opened with
 * O_NONBLOCK reporting no hang-up until a writer has come and gone (Linux's pipe_poll); elsewhere,
 * or without python3 and perl, ws spawns directly.
 */
const FIFO_BATCH = 32;
const READ_BUFFER = 64 * 1024;
/** Spare read buffers kept: two per job of a busy run's worker count is plenty. */
const MAX_SPARE_BUFFERS = 32;

interface LaunchRequest {
  command: string;
  args: string[];
  cwd: string;
  /** The child's whole environment (not a delta). */
  env: Record<string, string>;
  stdinFile?: string | undefined;
  /** Created with its folder before the job starts: by the python server, else here. */
  createFile?: string | undefined;
  /** Not killed when ws dies (record `G`): ws's own short gits, which a kill mid-write would leave a lock behind. */
  outlive?: boolean | undefined;
}

export interface Launched {
  pid: number;
  stdout: NodeJS.ReadableStream & { destroy(): void };
  stderr: NodeJS.ReadableStream & { destroy(): void };
  exit: Promise<[number | null, NodeJS.Signals | null]>;
  /** `clean`: both streams reached EOF, so their FIFOs can serve another job. */
  release(clean: boolean): void;
}

/** A spawn path: a server by name, or Node's own spawn. */
export type SpawnPath = "python" | "perl" | "direct";
export type ServerKind = Exclude<SpawnPath, "direct">;

/** Nothing was started: the program or a file of the job could not be had (python's `X`). */
export interface NotStarted {
  errno: number;
  message: string;
}

interface Job {
  /** The pid; -1 when the server died or could not fork; a NotStarted when python said why. */
  started: (pid: number | NotStarted) => void;
  ended: (status: number) => void;
}

export class SpawnServer {
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private buffered = "";
  private dead = false;
  private free: string[] = [];
  /** Read buffers of jobs that ended, for the next ones: a 64 KiB malloc per stream per job piled up as garbage outside V8's heap until a major GC (bench/: memory). */
  private buffers: Buffer[] = [];
  private fifoCount = 0;
  private refilling: Promise<boolean> | undefined;
  /** Whether it ever answered: one that died before that (python without posix_spawn) gives way to the next kind. */
  private answered = false;

  private constructor(
    readonly kind: ServerKind,
    private readonly child: ChildProcess,
    private readonly fifoDir: string,
  ) {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (text: string) => this.onReply(text));
    child.on("exit", () => this.onDeath());
    child.stdin!.on("error", () => this.onDeath());
    // The server must never keep ws alive; a running job's own FIFO sockets do.
    child.unref();
    (child.stdout as net.Socket).unref();
    (child.stdin as net.Socket & { unref(): void }).unref();
  }

  /** Starts a server of that kind, or undefined where it cannot run (not Linux, no interpreter). */
  static start(kind: ServerKind): SpawnServer | undefined {
    if (process.platform !== "linux") return undefined;
    const how = kind === "python" ? pythonServerCommand(process.env) : perlServerCommand(process.env);
    if (how === undefined) return undefined;
    const fifoDir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-spawn-"));
    removeAtExit(fifoDir);
    // detached: the terminal's Ctrl-C must not kill the server before ws has killed the jobs.
    const child = spawn(how.command, how.args, { env: {}, detached: true, stdio: ["pipe", "pipe", "ignore"] });
    const server = new SpawnServer(kind, child, fifoDir);
    // The first FIFOs are asked for at once, so the first job does not wait for them.
    void server.refillOnce();
    return server;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Closes its input, as ws's death does: the server kills every job still out and exits. */
  stop(): void {
    this.child.stdin!.end();
    fifoDirs.delete(this.fifoDir);
    fs.rmSync(this.fifoDir, { recursive: true, force: true });
  }

  /** Dead without ever answering: it could not run here (e.g. a python3 without posix_spawn). */
  get stillborn(): boolean {
    return this.dead && !this.answered;
  }

  /**
   * Forks one job. `command` must already be resolved to a file (the caller reports a missing
   * binary as a spawn error before asking). Undefined: not possible through the server (it died);
   * a NotStarted: the server says why nothing started (python only).
   */
  async launch(req: LaunchRequest, program: string): Promise<Launched | NotStarted | undefined> {
    if (this.dead) return undefined;
    const pair = await this.takeFifos();
    if (pair === undefined) return undefined;
    const [outPath, errPath] = pair;
    // Opened before the job starts (its open for writing waits for a reader); wrapped in sockets
    // only once it runs, in the same tick as the caller attaches its listeners: a socket starts
    // reading at once, and a fast job's EOF must not end it before anyone listens.
    const outFd = openFifo(outPath);
    const errFd = openFifo(errPath);
    let ended: (status: number) => void = () => {};
    const status = new Promise<number>((resolve) => (ended = resolve));
    const job = [req.stdinFile ?? "/dev/null", outPath, errPath, req.cwd, program, req.args.length + 1, req.command, ...req.args];
    if (req.createFile !== undefined && this.kind !== "python") fs.mkdirSync(path.dirname(req.createFile), { recursive: true });
    const record = req.createFile !== undefined && this.kind === "python" ? ["L", req.createFile, ...job] : [req.outlive ? "G" : "R", ...job];
    const pid = await this.send(record, req.env, (s) => ended(s));
    if (typeof pid !== "number" || pid < 0) {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      // Never written to: the FIFOs can serve the next job.
      if (typeof pid !== "number" && !this.dead) this.free.push(outPath, errPath);
      return typeof pid === "number" ? undefined : pid;
    }
    const outBuffer = this.buffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER);
    const errBuffer = this.buffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER);
    const stdout = readerOf(outFd, outBuffer);
    const stderr = readerOf(errFd, errBuffer);
    const exit = status.then(decodeStatus);
    const release = (clean: boolean) => {
      if (clean && !this.dead) this.free.push(outPath, errPath);
      else for (const file of [outPath, errPath]) fs.rmSync(file, { force: true });
      // Both sockets are closed (or destroyed): no read lands in these buffers any more.
      if (this.buffers.length < MAX_SPARE_BUFFERS) this.buffers.push(outBuffer, errBuffer);
    };
    return { pid, stdout, stderr, exit, release };
  }

  /** The job's pid once forked; -1 when the server died first. */
  private send(fields: Array<string | number>, env: Record<string, string>, ended: (status: number) => void): Promise<number | NotStarted> {
    const id = this.nextId++;
    // Replies keep ws alive only while a job is out.
    if (this.jobs.size === 0) (this.child.stdout as net.Socket).ref();
    return new Promise((resolve) => {
      this.jobs.set(id, {
        started: (pid) => {
          // An X ends the job: no E follows.
          if (typeof pid !== "number") this.jobs.get(id)?.ended(-1);
          resolve(pid);
        },
        ended: (status) => {
          this.jobs.delete(id);
          if (this.jobs.size === 0) (this.child.stdout as net.Socket).unref();
          ended(status);
        },
      });
      // Built in one string: an entries array, a string per variable and a join made ~5 KB of garbage a job.
      let record = fields.join("\0");
      for (const name in env) record += `\0${name}=${env[name]}`;
      this.child.stdin!.write(`${id} ${Buffer.byteLength(record)}\n${record}`);
      if (this.dead) this.onDeath();
    });
  }

  private onReply(text: string): void {
    this.buffered += text;
    let nl: number;
    this.answered = true;
    let from = 0;
    while ((nl = this.buffered.indexOf("\n", from)) !== -1) {
      const line = this.buffered.slice(from, nl);
      from = nl + 1;
      const [kind, id, value] = line.split(" ", 3);
      const job = this.jobs.get(Number(id));
      if (kind === "S") job?.started(Number(value)); // -1: the server could not fork; its E follows
      else if (kind === "E") job?.ended(Number(value));
      else if (kind === "X") job?.started({ errno: Number(value), message: line.split(" ").slice(3).join(" ") });
    }
    this.buffered = this.buffered.slice(from);
  }

  /** Jobs it still had were killed by the server on its way out (or are reaped by the group registry). */
  private onDeath(): void {
    this.dead = true;
    for (const job of this.jobs.values()) {
      job.started(-1);
      job.ended(128 + os.constants.signals.SIGKILL);
    }
    this.jobs.clear();
  }

  /** Two FIFOs for one job; made in batches by the server, reused once drained. */
  private async takeFifos(): Promise<[string, string] | undefined> {
    while (this.free.length < 2) if (!(await this.refillOnce())) return undefined;
    return [this.free.pop()!, this.free.pop()!];
  }

  /** One batch at a time, however many jobs wait for it. */
  private refillOnce(): Promise<boolean> {
    return (this.refilling ??= this.refill().finally(() => (this.refilling = undefined)));
  }

  private async refill(): Promise<boolean> {
    const files = Array.from({ length: FIFO_BATCH }, () => path.join(this.fifoDir, String(this.fifoCount++)));
    let ended: (status: number) => void = () => {};
    const status = new Promise<number>((resolve) => (ended = resolve));
    const pid = await this.send(["F", ...files], {}, (s) => ended(s));
    if (typeof pid !== "number" || pid < 0 || (await status) !== 0) return false;
    this.free.push(...files);
    return true;
  }
}

/**
 * A FIFO's reading end. Each read lands in one buffer per stream, handed on as a view (`data`
 * listeners must copy what they keep, as run-process does, and by the time release() is called
 * nothing may hold one): Node otherwise allocates 64 KiB per read outside V8's heap, and a step
 * printing without newlines made little garbage inside it, so nothing collected those buffers
 * until ~40 MB had piled up (bench/: memory). The buffer is reused by later jobs.
 */
function readerOf(fd: number, buffer: Buffer): net.Socket {
  const onread: net.OnReadOpts = {
    buffer,
    callback: (size) => {
      socket.emit("data", buffer.subarray(0, size));
      return true; // keep reading: false would pause the socket
    },
  };
  // @types/node declares `onread` for connect() only; the constructor takes it as well (Node's net.Socket docs).
  const socket: net.Socket = new net.Socket({ fd, readable: true, writable: false, onread } as net.SocketConstructorOpts);
  return socket;
}

function openFifo(file: string): number {
  // O_NONBLOCK: opening does not wait for the writer, and on Linux the FIFO reports no hang-up
  // until a writer has connected and gone, so no early EOF.
  return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
}

/** `wait`'s status: 128+n is signal n (as every shell reports it). */
function decodeStatus(status: number): [number | null, NodeJS.Signals | null] {
  if (status > 128) {
    const name = Object.entries(os.constants.signals).find(([, n]) => n === status - 128)?.[0];
    if (name !== undefined) return [null, name as NodeJS.Signals];
  }
  return [status, null];
}

const servers = new Map<ServerKind, SpawnServer | undefined>();
const fifoDirs = new Set<string>();

/** One exit hook for every server's FIFO folder. */
let exitHook = false;
function removeAtExit(dir: string): void {
  if (!exitHook) process.once("exit", () => fifoDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  exitHook = true;
  fifoDirs.add(dir);
}

/**
 * The spawn paths `WS_SPAWN` names, in the order they are tried: `python` (posix_spawn), `perl`
 * (fork), `direct` (Node's spawn). Unset or empty: the default, python, then perl, then direct
 * (bench/NOTES.md, issue 32: posix_spawn measured best here). A named server that cannot run here
 * gives way to the paths after it; `server` is the default's old name; any other value is the default.
 */
export function spawnPaths(env: NodeJS.ProcessEnv = process.env): SpawnPath[] {
  const wanted = env.WS_SPAWN;
  if (wanted === "direct") return ["direct"];
  if (wanted === "perl") return ["perl", "direct"];
  return ["python", "perl", "direct"];
}

/**
 * The process's spawn server of the first kind `WS_SPAWN` allows that runs here, started on first
 * use (one per kind: a test may switch WS_SPAWN); undefined with WS_SPAWN=direct or where no
 * server can run (then Node spawns each job). One that died before it ever answered (it cannot run
 * here) gives way to the next kind; one that died later (killed) is not started again.
 */
export function spawnServer(): SpawnServer | undefined {
  for (const kind of spawnPaths()) {
    if (kind === "direct") return undefined;
    if (!servers.has(kind)) servers.set(kind, SpawnServer.start(kind));
    const server = servers.get(kind);
    if (server === undefined || server.stillborn) continue;
    return server.alive ? server : undefined;
  }
  return undefined;
}

/** A server of its own, outside the process's (tests of the protocol); undefined where it cannot run. */
export function startSpawnServer(kind: ServerKind): SpawnServer | undefined {
  return SpawnServer.start(kind);
}

/** Whether the next job's server creates the files launch() is asked to (createFile): python's does. */
export function serverMakesFiles(): boolean {
  return spawnServer()?.kind === "python";
}

/** Which path the next job takes: what the tests and the benchmarks check they measured. */
export function spawnPathInUse(): SpawnPath {
  return spawnServer()?.kind ?? "direct";
}

/**
 * The server the next job would take, only if it has been started already (a run's steps start
 * it): ws's own short gits go through it then (run-git.ts), so starting one never forks ws's
 * thread on the hop; a command that starts no step (`ws status`) does not pay a server's start-up
 * for its gits. Undefined: Node spawns them as before.
 */
export function startedSpawnServer(): SpawnServer | undefined {
  for (const kind of spawnPaths()) {
    if (kind === "direct" || !servers.has(kind)) return undefined;
    const server = servers.get(kind);
    if (server === undefined || server.stillborn) continue;
    return server.alive ? server : undefined;
  }
  return undefined;
}
