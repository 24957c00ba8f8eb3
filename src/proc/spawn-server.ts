import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { findOnPath } from "../tools/binary.js";

/**
 * The spawn server: one long-lived perl that forks each attempt for ws, once, and execs it with no
 * shell in between. Node forks itself for every spawn (libuv copies ws's page tables, on the main
 * thread, and blocks there until the child has exec'd); with the server ws's main thread only
 * writes a record. Measured in bench/ (issue 24): ~10 % less wall than Node's spawn for 1000
 * no-op steps, but 12–26 % more CPU (forking is the kernel's work wherever it happens), one read
 * buffer per stream instead of one per read, and a kill -9 of ws ends the jobs at once. The
 * default where it can run; `WS_SPAWN=direct` spawns from Node instead. (It replaced a bash
 * server that forked twice per job and parsed each job's code: 1.45× the wall of Node's spawn.)
 *
 * Protocol: ws writes one record per job, a line `<id> <length>` and then that many bytes of
 * fields separated by NUL bytes (no field can hold one: launch() refuses a NUL beforehand): `R`,
 * the job's stdin, stdout and stderr paths, its cwd, the program, argc, argv (argv[0] as given)
 * and its whole environment as `NAME=value`; or `F` and the paths of FIFOs to make. perl forks
 * the job into a process group of its own, answers `S <id> <pid>` and, when it has been reaped,
 * `E <id> <status>` (128+n for signal n, as a shell reports it). The job's stdout and stderr are
 * FIFOs ws opened for reading beforehand, so ws still reads both streams apart (timestamped log,
 * tail, the agents' parsers) exactly as with a direct spawn. Timeouts and group kills stay in ws (`process.kill(-pid)`): perl only forks and reaps.
 * perl reads its stdin from ws: when ws dies, even by kill -9, the read ends and perl SIGKILLs the
 * group of every job still out.
 *
 * perl is started with an empty environment (PERL5OPT and friends in the user's environment must
 * not change it). SIGCHLD wakes its select(); a signal that lands between perl's check for pending
 * signals and the select() itself would be seen only at the next record, so while jobs are out it
 * also looks every 100 ms.
 *
 * Linux only: it relies on a FIFO opened with O_NONBLOCK reporting no hang-up until a writer has
 * come and gone (Linux's pipe_poll); elsewhere, or without perl, ws spawns directly.
 */
const SERVER_SCRIPT = `use strict;
use POSIX ();
$| = 1;
my (%jobs, %early);
my $buf = '';
sub status_of { my $w = shift; return ($w & 127) ? 128 + ($w & 127) : $w >> 8 }
sub reap {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $w = $?;
    my $id = delete $jobs{$pid};
    if (defined $id) { print "E $id ", status_of($w), "\\n" } else { $early{$pid} = $w }
  }
}
# A CHLD handler can run in the middle of the main loop's reap(): it must leave that reap's $? alone.
$SIG{CHLD} = sub { local ($?, $!); reap() };
$SIG{PIPE} = 'IGNORE';
sub start {
  my ($id, $record) = @_;
  my ($kind, @fields) = split /\\0/, $record, -1;
  if ($kind eq 'F') {
    my $made = grep { POSIX::mkfifo($_, 0600) } @fields;
    print "S $id 0\\nE $id ", ($made == @fields ? 0 : 1), "\\n";
    return;
  }
  my ($in, $out, $err, $cwd, $program, $argc, @rest) = @fields;
  my @argv = splice @rest, 0, $argc;
  my $pid = fork;
  if (!defined $pid) { print "S $id -1\\nE $id 126\\n"; return }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
    POSIX::setpgid(0, 0);
    open(STDIN, '<', $in) && open(STDOUT, '>', $out) && open(STDERR, '>', $err) or POSIX::_exit(126);
    chdir($cwd) or POSIX::_exit(127);
    %ENV = map { split /=/, $_, 2 } @rest;
    exec { $program } @argv;
    POSIX::_exit(127);
  }
  POSIX::setpgid($pid, $pid);
  print "S $id $pid\\n";
  $jobs{$pid} = $id;
  if (exists $early{$pid}) { delete $jobs{$pid}; print "E $id ", status_of(delete $early{$pid}), "\\n" }
}
my $rin = ''; vec($rin, 0, 1) = 1;
for (;;) {
  my $ready = select(my $rout = $rin, undef, undef, %jobs ? 0.1 : undef);
  reap();
  next if $ready <= 0;
  my $got = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $got) { next if $!{EINTR}; last }
  last if $got == 0;
  while ($buf =~ /\\A(\\d+) (\\d+)\\n/ && length($buf) >= $+[0] + $2) {
    my ($id, $head, $len) = ($1, $+[0], $2);
    my $record = substr($buf, $head, $len);
    substr($buf, 0, $head + $len) = '';
    start($id, $record);
  }
}
kill 'KILL', map { -$_ } keys %jobs;
`;

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

  /** Starts a server, or undefined where it cannot run (not Linux, no perl). */
  static start(): SpawnServer | undefined {
    if (process.platform !== "linux") return undefined;
    const perl = findOnPath("perl", process.env);
    if (perl === undefined) return undefined;
    const fifoDir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-spawn-"));
    process.once("exit", () => fs.rmSync(fifoDir, { recursive: true, force: true }));
    // detached: the terminal's Ctrl-C must not kill the server before ws has killed the jobs.
    const child = spawn(perl, ["-e", SERVER_SCRIPT], { env: {}, detached: true, stdio: ["pipe", "pipe", "ignore"] });
    const server = new SpawnServer(child, fifoDir);
    // The first FIFOs are asked for at once, so the first job does not wait for them.
    void server.refillOnce();
    return server;
  }

  get alive(): boolean {
    return !this.dead;
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
    // Opened before the job starts (its open for writing waits for a reader); wrapped in sockets
    // only once it runs, in the same tick as the caller attaches its listeners: a socket starts
    // reading at once, and a fast job's EOF must not end it before anyone listens.
    const outFd = openFifo(outPath);
    const errFd = openFifo(errPath);
    let ended: (status: number) => void = () => {};
    const status = new Promise<number>((resolve) => (ended = resolve));
    const record = ["R", req.stdinFile ?? "/dev/null", outPath, errPath, req.cwd, program, req.args.length + 1, req.command, ...req.args];
    const pid = await this.send(record, req.env, (s) => ended(s));
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
  private send(fields: Array<string | number>, env: Record<string, string>, ended: (status: number) => void): Promise<number> {
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
      const record = [...fields, ...Object.entries(env).map(([name, value]) => `${name}=${value}`)].join("\0");
      this.child.stdin!.write(`${id} ${Buffer.byteLength(record)}\n${record}`);
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
      if (kind === "S") job?.started(Number(value)); // -1: perl could not fork; its E follows
      else if (kind === "E") job?.ended(Number(value));
    }
  }

  /** Jobs it still had were killed by perl on its way out (or are reaped by the group registry). */
  private onDeath(): void {
    this.dead = true;
    for (const job of this.jobs.values()) {
      job.started(-1);
      job.ended(128 + os.constants.signals.SIGKILL);
    }
    this.jobs.clear();
  }

  /** Two FIFOs for one job; made in batches by perl, reused once drained. */
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
 * The process's spawn server, started on first use; undefined with WS_SPAWN=direct or where it
 * cannot run (then Node spawns each job). The default by measurement (bench/NOTES.md, issue 24):
 * less wall than Node's own spawn, one read buffer per stream instead of one per read, and a
 * kill -9 of ws kills the running jobs' groups at once instead of at the next run.
 */
export function spawnServer(): SpawnServer | undefined {
  if (process.env.WS_SPAWN === "direct") return undefined;
  if (server && !server.alive) server = undefined;
  if (!server && !tried) {
    tried = true;
    server = SpawnServer.start();
  }
  return server;
}
