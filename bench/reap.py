# CPU counted over every process a command starts, for the overhead benchmark.
#
# getrusage(RUSAGE_CHILDREN) of a parent (what /usr/bin/time reports) only holds the children it
# has waited for, and what they waited for in turn. ws's spawn server is detached and outlives ws
# by a moment: it is reparented to init and reaped there, so its bash forks never reach ws's
# parent. Here this process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER, Linux
# 3.4+, no privilege needed): every orphan below it is reparented to it instead of init, and it
# waits for all of them before reading RUSAGE_CHILDREN. Python, not Node: Node has no prctl.
#
# Usage: python3 bench/reap.py <out.json> <command> [args...]
# Writes {"wallMs": spawn to the command's own exit, "cpuMs": user+sys of the whole tree,
# "code": its exit status (128+n for signal n), "stragglers": processes still alive at the cap}.
import ctypes
import json
import os
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
# An orphan that never ends (a setsid daemon) must not hang the benchmark.
CAP_S = 20

out, argv = sys.argv[1], sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("reap.py: prctl(PR_SET_CHILD_SUBREAPER) failed")

started = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)

wall_ms = None
code = None
deadline = None
stragglers = 0
while True:
    try:
        if deadline is None:
            done, status = os.wait()
        else:
            done, status = os.waitpid(-1, os.WNOHANG)
            if done == 0:
                if time.monotonic() > deadline:
                    stragglers = 1
                    break
                time.sleep(0.01)
                continue
    except ChildProcessError:
        break
    if done == pid:
        wall_ms = (time.monotonic() - started) * 1000
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            code = 128 - code
        deadline = time.monotonic() + CAP_S

usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump({"wallMs": wall_ms, "cpuMs": (usage.ru_utime + usage.ru_stime) * 1000, "code": code, "stragglers": stragglers}, f)
