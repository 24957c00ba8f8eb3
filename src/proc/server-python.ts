import fs from "node:fs";
import path from "node:path";

/**
 * The python3 spawn server (issue 32): the same protocol as the perl one (spawn-server.ts), but
 * each job is started with `os.posix_spawn`, which glibc implements as clone(CLONE_VM |
 * CLONE_VFORK): the child borrows the server's memory until it execs, no page tables are copied,
 * as GNU make starts its jobs. No compiler needed: python3 ≥ 3.8 is on most Linux systems. The
 * default where it runs (bench/NOTES.md, issue 32 point 4); `WS_SPAWN=python` asks for it.
 *
 * What it does differently from perl's fork, and why:
 * - The job's files are opened by the server (close-on-exec) and dup2'd onto 0/1/2 by the spawn's
 *   file actions, so a file that cannot be opened is reported to ws (`X`) instead of an exit 126
 *   ws cannot explain. The output FIFOs are opened O_NONBLOCK (ENXIO, not a hang, if ws's reader
 *   is gone), then set blocking again before the child gets them.
 * - `setpgroup=0` makes the job a group leader before it execs: no setpgid race with ws's kills.
 * - posix_spawn has no cwd: the server chdirs before each spawn (it is single-threaded).
 * - A program that is not an executable format (ENOEXEC, a script without `#!`) runs with
 *   /bin/sh, as execvp (perl's exec, Node's spawn) does; glibc's posix_spawn no longer does.
 * - SIGPIPE and SIGXFSZ are reset to their defaults in the child: python ignores both, and an
 *   ignored signal stays ignored across exec.
 * - SIGCHLD writes to a wake-up pipe (`signal.set_wakeup_fd`) that select() watches, so a child's
 *   exit is never missed between two selects and no polling is needed.
 * - Replies of one turn of its loop go in one write: fewer wake-ups of ws's event loop.
 * - It imports `_signal`, the C module under `signal`: `signal` wraps it in enums and loads enum,
 *   functools and collections, ~4 ms of the server's start-up, which the first step waits for.
 * - An `L` record names a file to create, with its folder, before the job starts: the attempt's
 *   log. A new inode on a busy ext4 held ws's main thread ~0.5 ms a step (its folder and its log);
 *   here it costs the server's core, and ws then opens an existing file.
 *
 * Answers: `S <id> <pid>`, `E <id> <status>` (128+n for signal n), or `X <id> <errno> <message>`
 * when the job could not be started (nothing ran). When ws's end of its stdin closes (ws died,
 * even by kill -9) it SIGKILLs the group of every job still out. A python3 without
 * `os.posix_spawn` exits 3 at once; ws then takes the next path.
 */
export const PYTHON_SERVER = String.raw`import os, select, sys
import _signal as signal
def main():
    if not hasattr(os, "posix_spawn"):
        sys.exit(3)
    spawn, waitpid, write = os.posix_spawn, os.waitpid, os.write
    DUP2, WNOHANG = os.POSIX_SPAWN_DUP2, os.WNOHANG
    RD, WR = os.O_RDONLY | os.O_CLOEXEC, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC
    MAKE = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
    defaults = [s for s in (signal.SIGPIPE, getattr(signal, "SIGXFSZ", None)) if s is not None]
    null = os.open("/dev/null", RD)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda n, f: None)
    jobs = {}
    keep = set()
    out = []

    def reap():
        while jobs:
            try:
                pid, w = waitpid(-1, WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = jobs.pop(pid, None)
            keep.discard(job)
            if job is not None:
                status = 128 + os.WTERMSIG(w) if os.WIFSIGNALED(w) else os.WEXITSTATUS(w)
                out.append(b"E %s %d\n" % (job, status))

    def fifos(job, names):
        made = 0
        for name in names:
            try:
                os.mkfifo(name, 0o600)
                made += 1
            except OSError:
                pass
        out.append(b"S %s 0\nE %s %d\n" % (job, job, 0 if made == len(names) else 1))

    def create(job, name):
        try:
            # The folder first: it is new for almost every attempt (a failed open, then makedirs'
            # stat and mkdir, cost two more calls and an exception).
            try:
                os.mkdir(os.path.dirname(name), 0o777)
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(os.path.dirname(name), exist_ok=True)
            os.close(os.open(name, MAKE, 0o666))
            return True
        except OSError as error:
            out.append(b"X %s %d %s\n" % (job, error.errno or 5, (error.strerror or str(error)).encode("utf-8", "replace")))
            return False

    def run(job, fields):
        stdin, stdout, stderr, cwd, program, argc = fields[:6]
        argc = int(argc)
        argv = fields[6:6 + argc]
        env = dict(e.split(b"=", 1) for e in fields[6 + argc:] if b"=" in e)
        fds = []
        try:
            # /dev/null, most jobs' stdin, stays open (close-on-exec; dup2 gives the child its own).
            fds.append(null if stdin == b"/dev/null" else os.open(stdin, RD))
            for name in (stdout, stderr):
                fds.append(os.open(name, WR))
                os.set_blocking(fds[-1], True)
            os.chdir(cwd)
            actions = [(DUP2, fds[0], 0), (DUP2, fds[1], 1), (DUP2, fds[2], 2)]
            try:
                pid = spawn(program, argv, env, file_actions=actions, setpgroup=0, setsigdef=defaults)
            except OSError as error:
                if error.errno != 8:
                    raise
                sh = [b"/bin/sh", program] + argv[1:]
                pid = spawn(b"/bin/sh", sh, env, file_actions=actions, setpgroup=0, setsigdef=defaults)
        except (OSError, ValueError) as error:
            code = error.errno if isinstance(error, OSError) and error.errno else 22
            text = (error.strerror if isinstance(error, OSError) and error.strerror else str(error)).replace("\n", " ")
            out.append(b"X %s %d %s\n" % (job, code, text.encode("utf-8", "replace")))
            return
        finally:
            for fd in fds:
                if fd != null:
                    os.close(fd)
        jobs[pid] = job
        out.append(b"S %s %d\n" % (job, pid))

    buf = b""
    while True:
        try:
            ready = select.select([0, wake_r], [], [])[0]
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        reap()
        if 0 in ready:
            data = os.read(0, 1 << 16)
            if not data:
                break
            buf += data
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                job, size = buf[:nl].split(b" ")
                end = nl + 1 + int(size)
                if len(buf) < end:
                    break
                fields = buf[nl + 1:end].split(b"\0")
                buf = buf[end:]
                if fields[0] == b"F":
                    fifos(job, fields[1:])
                elif fields[0] == b"L":
                    if create(job, fields[1]):
                        run(job, fields[2:])
                else:
                    if fields[0] == b"G":
                        keep.add(job)
                    run(job, fields[1:])
        if out:
            data = b"".join(out)
            del out[:]
            try:
                while data:
                    data = data[write(1, data):]
            except OSError:
                break
    for pid, job in jobs.items():
        if job in keep:
            continue
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

main()
`;

/**
 * python3 as the server's interpreter, isolated (`-I`: no PYTHON* variables, no user site) and
 * without site (`-S`: ~10 ms less start-up). The first python3 on PATH that is not a script: a
 * version manager's shim (pyenv's is a bash script that takes ~200 ms to reach python) is passed
 * over for the next one, usually the system's.
 */
export function pythonServerCommand(env: NodeJS.ProcessEnv): { command: string; args: string[] } | undefined {
  const python = findBinaryOnPath("python3", env);
  return python === undefined ? undefined : { command: python, args: ["-I", "-S", "-c", PYTHON_SERVER] };
}

function findBinaryOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExecutable(file) && !isScript(file)) return file;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isScript(file: string): boolean {
  const head = Buffer.alloc(2);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head.toString("latin1") === "#!";
  } catch {
    return true;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
