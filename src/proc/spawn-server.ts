import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { findOnPath } from "../tools/binary.js";
import { shellQuote } from "../format/shell-quote.js";

/**
 * The spawn server (WS_SPAWN=server; not the default, see spawnServer below): one long-lived bash
 * with job control (`set -m`, so every background job leads its own process group) that forks
 * each attempt for ws. Forking Node copies its page tables on every spawn (slower the more memory
 * ws holds, and done on the main thread); forking a small bash costs a fraction of that, but it
 * forks twice per job (a watcher, then the job), which on a small ws costs more than it saves.
 *
 * Protocol: ws writes one record per job, a line `<id> <length>` and then that many bytes of
 * bash code: bash reads a pipe one byte per system call when it looks for a delimiter, but takes
 * a counted read (`read -N`, bytes under LC_ALL=C) in one call, which in a 1000-step run was
 * 300 000 reads fewer (bench/NOTES.md). Its own variables are `_ws_*`: an exported variable of
 * the same name would otherwise change in every job's environment. For each, bash
 * forks a watcher subshell, itself with job control, which forks the job into a new process group
 * and answers `S <id> <pid>`, then `E <id> <status>` when it has ended ($? of `wait`: 128+n for a
 * signal). The watcher, not the server, waits: bash runs a CHLD trap only once its `read` of the
 * next record returns, and the watcher lives outside the job's group, so a kill of the group
 * never silences the report. The job itself is a subshell (`( eval ) &`), not an async `eval`:
 * bash lowers SHLVL when a forked simple command execs, which would change the child's env. The job's stdout and stderr are FIFOs ws opened for reading beforehand, so
 * ws still reads both streams apart (timestamped log, tail, the agents' parsers) exactly as with
 * a direct spawn. Timeouts and group kills stay in ws (`process.kill(-pid)`): bash only forks and
 * waits. bash reads its stdin from ws: when ws dies, even by kill -9, the read ends and every
 * watcher still out SIGKILLs its job's group (USR1).
 *
 * Linux only: it relies on a FIFO opened with O_NONBLOCK reporting no hang-up until a writer has
 * come and gone (Linux's pipe_poll); elsewhere ws spawns directly.
 */
const SERVER_SCRIPT = `set -m
while IFS=' ' read -r _ws_id _ws_len && LC_ALL=C IFS= read -r -N "$_ws_len" _ws_code; do
  ( set -m
    _ws_p=
    trap 'kill -KILL -- "-$_ws_p" 2>/dev/null' USR1
    ( eval "$_ws_code" ) &
    _ws_p=$!
    printf 'S %s %s\\n' "$_ws_id" "$_ws_p"
    while :; do wait "$_ws_p"; _ws_s=$?; kill -0 "$_ws_p" 2>/dev/null || break; done
    printf 'E %s %s\\n' "$_ws_id" "$_ws_s"
  ) &
done
kill -USR1 $(jobs -p) 2>/dev/null
`;

/** Variables bash reads at start-up or holds read-only: never passed through the server. */
const BASH_OWN = new Set(["BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "BASH_VERSINFO", "UID", "EUID", "PPID", "BASHPID", "GROUPS"]);
/** bash sets these itself in every job; they are always set (or unset) to the wanted value. */
const ALWAYS_SET = ["PWD", "OLDPWD", "SHLVL"];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FIFO_BATCH = 32;

interface LaunchRequest {
  command: string;
  args: string[];
  cwd: string;
  /** The child's whole environment (not a delta). */
  env: Record<string, string>;
  stdinFile?: string | undefined;
}

export interface Launched {
  pid: number;
  stdout: NodeJS.ReadableStream & { destroy(): void };
  stderr: NodeJS.ReadableStream & { destroy(): void };
  exit: Promise<[number | null, NodeJS.Signals | null]>;
  /** `clean`: both streams reached EOF, so their FIFOs can serve another job. */
  release(clean: boolean): void;
}

interface Job {
  started: (pid: number) => void;
  ended: (status: number) => void;
}

class SpawnServer {
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private buffered = "";
  private dead = false;
  private free: string[] = [];
  private fifoCount = 0;
  private refilling: Promise<boolean> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly baseEnv: Record<string, string>,
    private readonly fifoDir: string,
    private readonly mkfifo: string,
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

  /** Starts a server, or undefined where it cannot run (not Linux, no bash or mkfifo). */
  static start(): SpawnServer | undefined {
    if (process.platform !== "linux") return undefined;
    const bash = findOnPath("bash", process.env);
    const mkfifo = findOnPath("mkfifo", process.env);
    if (bash === undefined || mkfifo === undefined) return undefined;
    const baseEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !BASH_OWN.has(k)) baseEnv[k] = v;
    const fifoDir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-spawn-"));
    process.once("exit", () => fs.rmSync(fifoDir, { recursive: true, force: true }));
    // detached: the terminal's Ctrl-C must not kill the server before ws has killed the jobs.
    const child = spawn(bash, ["--noprofile", "--norc", "-c", SERVER_SCRIPT], {
      env: baseEnv,
      detached: true,
      stdio: ["pipe", "pipe", "ignore"],
    });
    const server = new SpawnServer(child, baseEnv, fifoDir, mkfifo);
    // The first FIFOs are made at once, so the first job does not wait for a mkfifo job.
    void server.refillOnce();
    return server;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /**
   * The bash code of a job, or undefined when the environment cannot be expressed through bash
   * (a name bash rejects or owns, a NUL byte): the caller then spawns directly.
   */
  private jobCode(req: LaunchRequest, program: string, out: string, err: string): string | undefined {
    const unset: string[] = [];
    const set: string[] = [];
    const names = new Set([...Object.keys(this.baseEnv), ...Object.keys(req.env), ...ALWAYS_SET]);
    for (const name of names) {
      const wanted = req.env[name];
      if (wanted === this.baseEnv[name] && !ALWAYS_SET.includes(name)) continue;
      if (!NAME.test(name) || BASH_OWN.has(name)) return undefined;
      if (wanted === undefined) unset.push(name);
      else set.push(`${name}=${shellQuote([wanted])}`);
    }
    const code = [
      `exec <${shellQuote([req.stdinFile ?? "/dev/null"])} >${shellQuote([out])} 2>${shellQuote([err])} || exit 126`,
      `cd -- ${shellQuote([req.cwd])} || exit 127`,
      ...(unset.length > 0 ? [`unset -v ${unset.join(" ")}`] : []),
      ...(set.length > 0 ? [`export ${set.join(" ")}`] : []),
      // -a: the program sees argv[0] as given, as with a direct spawn.
      `exec -a ${shellQuote([req.command, program, ...req.args])}`,
    ].join("\n");
    // bash drops a NUL byte from what it reads, so the record would end short and the server would
    // read on into the next one: never sent (launch() reports a NUL as a spawn error beforehand).
    return code.includes("\0") ? undefined : code;
  }

  /**
   * Forks one job. `command` must already be resolved to a file (the caller reports a missing
   * binary as a spawn error before asking). Undefined: not possible through the server.
   */
  async launch(req: LaunchRequest, program: string): Promise<Launched | undefined> {
    if (this.dead) return undefined;
    const pair = await this.takeFifos();
    if (pair === undefined) return undefined;
    const [outPath, errPath] = pair;
    const code = this.jobCode(req, program, outPath, errPath);
    if (code === undefined) {
      this.free.push(outPath, errPath);
      return undefined;
    }
    // Opened before the job starts (its open for writing waits for a reader); wrapped in sockets
    // only once it runs, in the same tick as the caller attaches its listeners: a socket starts
    // reading at once, and a fast job's EOF must not end it before anyone listens.
    const outFd = openFifo(outPath);
    const errFd = openFifo(errPath);
    let ended: (status: number) => void = () => {};
    const status = new Promise<number>((resolve) => (ended = resolve));
    const pid = await this.send(code, (s) => ended(s));
    if (pid < 0) {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      return undefined;
    }
    const stdout = readerOf(outFd);
    const stderr = readerOf(errFd);
    const exit = status.then(decodeStatus);
    const release = (clean: boolean) => {
      if (clean && !this.dead) this.free.push(outPath, errPath);
      else for (const file of [outPath, errPath]) fs.rmSync(file, { force: true });
    };
    return { pid, stdout, stderr, exit, release };
  }

  /** The job's pid once forked; -1 when the server died first. */
  private send(code: string, ended: (status: number) => void): Promise<number> {
    const id = this.nextId++;
    // Replies keep ws alive only while a job is out.
    if (this.jobs.size === 0) (this.child.stdout as net.Socket).ref();
    return new Promise((resolve) => {
      this.jobs.set(id, {
        started: resolve,
        ended: (status) => {
          this.jobs.delete(id);
          if (this.jobs.size === 0) (this.child.stdout as net.Socket).unref();
          ended(status);
        },
      });
      this.child.stdin!.write(`${id} ${Buffer.byteLength(code)}\n${code}`);
      if (this.dead) this.onDeath();
    });
  }

  private onReply(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) !== -1) {
      const [kind, id, value] = this.buffered.slice(0, nl).split(" ");
      this.buffered = this.buffered.slice(nl + 1);
      const job = this.jobs.get(Number(id));
      if (kind === "S") job?.started(Number(value));
      else if (kind === "E") job?.ended(Number(value));
    }
  }

  /** Jobs it still had were killed by bash on its way out (or are reaped by the group registry). */
  private onDeath(): void {
    this.dead = true;
    for (const job of this.jobs.values()) {
      job.started(-1);
      job.ended(128 + os.constants.signals.SIGKILL);
    }
    this.jobs.clear();
  }

  /** Two FIFOs for one job; made in batches by one `mkfifo` job, reused once drained. */
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
    const code = `exec </dev/null >/dev/null 2>&1; exec ${shellQuote([this.mkfifo, "-m", "600", ...files])}`;
    const pid = await this.send(code, (s) => ended(s));
    if (pid < 0 || (await status) !== 0) return false;
    this.free.push(...files);
    return true;
  }
}

/**
 * A FIFO's reading end. Each read lands in one buffer per stream, handed on as a view (`data`
 * listeners must copy what they keep, as run-process does): Node otherwise allocates 64 KiB per
 * read outside V8's heap, and a step printing without newlines made little garbage inside it, so
 * nothing collected those buffers until ~40 MB had piled up (bench/: memory).
 */
function readerOf(fd: number): net.Socket {
  const buffer = Buffer.allocUnsafe(64 * 1024);
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

let server: SpawnServer | undefined;
let tried = false;

/**
 * The process's spawn server, started on first use with WS_SPAWN=server; undefined otherwise (the
 * default) or where it cannot run. Not the default: measured on 2 cores (bench/NOTES.md, issue
 * 24), its two bash forks per job cost more CPU and wall than Node's own spawn saves, and the CPU
 * hides from the parent's rusage because the server is never waited for. What it still gives: a
 * kill -9 of ws kills the running jobs' groups at once, not at the next run.
 */
export function spawnServer(): SpawnServer | undefined {
  if (process.env.WS_SPAWN !== "server") return undefined;
  if (server && !server.alive) server = undefined;
  if (!server && !tried) {
    tried = true;
    server = SpawnServer.start();
  }
  return server;
}
