import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProcess, type RunProcessOptions } from "../../src/proc/run-process.js";
import { launch } from "../../src/proc/launch.js";
import { spawnPathInUse } from "../../src/proc/spawn-server.js";
import { killAllLiveGroups, liveGroupCount } from "../../src/proc/live-groups.js";
import { UserError } from "../../src/errors.js";
import { fixture, isGone, tempDir, waitFor, waitGone } from "./helpers.js";

let dir: string;
let logFile: string;
beforeEach(() => {
  dir = tempDir();
  logFile = path.join(dir, "steps", "s1", "attempt-1.log");
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const node = (script: string, ...args: string[]): Pick<RunProcessOptions, "command" | "args"> => ({
  command: process.execPath,
  args: [fixture(script), ...args],
});
const sh = (line: string): Pick<RunProcessOptions, "command" | "args"> => ({ command: "/bin/sh", args: ["-c", line] });
const readLog = () => fs.readFileSync(logFile, "utf8");

describe.each(["python", "perl", "direct"])("runProcess (%s spawn)", (mode) => {
  beforeEach(() => {
    process.env.WS_SPAWN = mode;
  });
  afterEach(() => {
    delete process.env.WS_SPAWN;
  });

  it("stdin is /dev/null, or the given file read to its end (an agent reading its prompt)", async () => {
    const empty = await runProcess({ ...sh("wc -c"), cwd: dir, logFile });
    expect(empty.tail).toEqual(["0"]);
    const prompt = path.join(dir, "prompt.md");
    fs.writeFileSync(prompt, "line one\nline 'two' $HOME\n");
    const fed = await runProcess({ ...sh("cat"), cwd: dir, logFile, stdinFile: prompt });
    expect(fed.tail).toEqual(["line one", "line 'two' $HOME"]);
  });

  it("starts through the server WS_SPAWN names (python, perl), or from Node with direct", async () => {
    const result = await runProcess({ ...sh("echo $PPID; echo $$"), cwd: dir, logFile });
    const [ppid, pid] = result.tail.map(Number);
    expect(pid).toBe(result.pid);
    if (mode === "direct") expect(ppid).toBe(process.pid);
    else expect(fs.readFileSync(`/proc/${ppid}/comm`, "utf8")).toMatch(mode === "python" ? /^python3/ : /^perl$/m);
    expect(spawnPathInUse()).toBe(mode);
  });

  it("through the spawn server, reads each stream into one reused buffer (no 64 KiB allocation per read)", async () => {
    if (mode === "direct") return; // Node's own child pipes allocate per read; only the server's sockets can reuse
    const launched = await launch({ ...sh("head -c 4000000 /dev/zero"), cwd: dir });
    if ("error" in launched) throw new Error(launched.error);
    const backing = new Set<ArrayBufferLike>();
    let bytes = 0;
    for (const stream of [launched.stdout, launched.stderr]) {
      stream.on("data", (chunk: Buffer) => {
        backing.add(chunk.buffer);
        bytes += chunk.length;
      });
    }
    await Promise.all([launched.exit, ...[launched.stdout, launched.stderr].map((s) => new Promise((resolve) => s.on("close", resolve)))]);
    launched.release(true);
    expect(bytes).toBe(4_000_000);
    expect(backing.size).toBe(1); // stderr says nothing; stdout's ~60 reads share one buffer
  });

  it("reports exit codes and logs both streams with timestamps, header and footer", async () => {
    const result = await runProcess({ ...node("exit-with.cjs", "3"), cwd: dir, logFile });
    expect(result).toMatchObject({ exitCode: 3, signal: null, outcome: "exited" });
    expect(result.pid).toBeGreaterThan(0);
    expect(result.tail).toEqual(expect.arrayContaining(["to stdout", "to stderr"]));
    const lines = readLog().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^# \d{4}-\d\d-\d\dT[\d:.]+Z \$ \S+node\S* \S+exit-with\.cjs 3 \(cwd: .+\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} out\| to stdout$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} err\| to stderr$/));
    expect(lines.at(-1)).toMatch(/^# \S+Z exit 3 after \d/);

    const ok = await runProcess({ ...node("exit-with.cjs", "0"), cwd: dir, logFile });
    expect(ok).toMatchObject({ exitCode: 0, outcome: "exited" });
    // Appended, not overwritten.
    expect(readLog().match(/^# .* \$ /gm)).toHaveLength(2);
  });

  it("runs an executable script directly and quotes the header for a shell", async () => {
    const result = await runProcess({ ...sh("echo 'it''s'; echo done"), cwd: dir, logFile });
    expect(result.exitCode).toBe(0);
    expect(readLog().split("\n")[0]).toContain(`$ /bin/sh -c 'echo '\\''it'\\'''\\''s'\\''; echo done'`);
  });

  it("keeps the last N lines, interleaved, and gives onLine whole lines", async () => {
    const lines: Array<[string, string]> = [];
    const result = await runProcess({
      ...sh("i=1; while [ $i -le 80 ]; do echo line$i; i=$((i+1)); done; printf 'part'; printf 'ial\\r\\n'; echo oops >&2; printf 'no newline'"),
      cwd: dir,
      logFile,
      tailLines: 5,
      onLine: (line, stream) => lines.push([line, stream]),
    });
    expect(result.tail).toHaveLength(5);
    expect(result.tail).toEqual(expect.arrayContaining(["line80", "partial", "oops", "no newline"]));
    expect(lines.filter(([, s]) => s === "stdout").map(([l]) => l)).toEqual([
      ...Array.from({ length: 80 }, (_, i) => `line${i + 1}`),
      "partial",
      "no newline",
    ]);
    expect(lines).toContainEqual(["oops", "stderr"]);
    // The unterminated last line is closed before anything else is written after it.
    expect(readLog()).toMatch(/out\| no newline\n(\S+ err\| oops\n)?# \S+ exit 0 after/);
  });

  it("adds env to the parent's and runs in cwd", async () => {
    const sub = path.join(dir, "sub dir");
    fs.mkdirSync(sub);
    process.env.WS_TEST_PARENT = "from-parent";
    try {
      const result = await runProcess({
        ...sh('echo "$WS_TEST_ADDED $WS_TEST_PARENT"; pwd'),
        cwd: sub,
        env: { WS_TEST_ADDED: "added" },
        logFile,
      });
      expect(result.tail).toEqual(["added from-parent", fs.realpathSync(sub)]);
    } finally {
      delete process.env.WS_TEST_PARENT;
    }
  });


  it("starts from `inherit` instead of process.env when given (the engine's copy for the run)", async () => {
    process.env.WS_TEST_LATE = "set-after-the-copy";
    try {
      const inherit = { PATH: process.env.PATH ?? "/usr/bin:/bin", WS_TEST_COPIED: "copied" };
      const result = await runProcess({
        ...sh('echo "${WS_TEST_COPIED-unset} ${WS_TEST_LATE-unset} $WS_TEST_ADDED"'),
        cwd: dir,
        env: { WS_TEST_ADDED: "added" },
        inherit,
        logFile,
      });
      expect(result.tail).toEqual(["copied unset added"]);
    } finally {
      delete process.env.WS_TEST_LATE;
    }
  });
  it("reports a missing binary, a non-executable file and a missing cwd as spawn_error without throwing", async () => {
    const missing = await runProcess({ command: "ws-no-such-tool-xyz", args: ["a"], cwd: dir, logFile });
    expect(missing).toMatchObject({ outcome: "spawn_error", exitCode: null, error: "command not found: ws-no-such-tool-xyz" });
    expect(readLog()).toContain("spawn error: command not found: ws-no-such-tool-xyz");

    const plain = path.join(dir, "not-executable.sh");
    fs.writeFileSync(plain, "#!/bin/sh\necho hi\n");
    const denied = await runProcess({ command: plain, args: [], cwd: dir, logFile });
    expect(denied).toMatchObject({ outcome: "spawn_error", error: `permission denied: ${plain}` });

    const noCwd = await runProcess({ ...sh("true"), cwd: path.join(dir, "gone"), logFile });
    expect(noCwd).toMatchObject({ outcome: "spawn_error" });
    expect(noCwd.error).toContain("working directory not found");
    expect(liveGroupCount()).toBe(0);
  });

  it("on timeout, SIGKILLs a child that ignores SIGTERM after the grace period", async () => {
    const result = await runProcess({ ...node("ignores-sigterm.cjs"), cwd: dir, logFile, timeoutMs: 3000, killGraceMs: 300 });
    expect(result).toMatchObject({ outcome: "timeout", signal: "SIGKILL", exitCode: null });
    expect(result.tail).toContain("ignoring SIGTERM");
    expect(readLog()).toMatch(/# \S+ timeout after 3s \(SIGTERM, then SIGKILL\)\n$/);
    expect(await waitGone(result.pid!)).toBe(true);
  });

  it("on timeout, a child that obeys SIGTERM ends with SIGTERM", async () => {
    const result = await runProcess({ ...node("forever.cjs"), cwd: dir, logFile, timeoutMs: 500, killGraceMs: 10_000 });
    expect(result).toMatchObject({ outcome: "timeout", signal: "SIGTERM" });
    expect(readLog()).toMatch(/timeout after 500ms \(SIGTERM\)\n$/);
  });

  it("kills a background grandchild holding stdout when the leader exits normally", async () => {
    const pidFile = path.join(dir, "grandchild.pid");
    const result = await runProcess({ command: fixture("spawns-grandchild.sh"), args: [pidFile], cwd: dir, logFile });
    expect(result).toMatchObject({ outcome: "exited", exitCode: 0 });
    const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitGone(grandchild)).toBe(true);
    expect(liveGroupCount()).toBe(0);
  });

  it("cancels through an AbortSignal: outcome cancelled, the whole group dead", async () => {
    const pidFile = path.join(dir, "grandchild.pid");
    const controller = new AbortController();
    const running = runProcess({
      command: fixture("spawns-grandchild.sh"),
      args: [pidFile, "wait"],
      cwd: dir,
      logFile,
      signal: controller.signal,
      onLine: (line) => {
        if (line.startsWith("spawned")) controller.abort();
      },
    });
    const result = await running;
    expect(result).toMatchObject({ outcome: "cancelled", signal: "SIGTERM" });
    expect(readLog()).toMatch(/# \S+ cancelled after \S+ \(SIGTERM\)\n$/);
    expect(await waitGone(Number(fs.readFileSync(pidFile, "utf8")))).toBe(true);
    expect(await waitGone(result.pid!)).toBe(true);

    const before = await runProcess({ ...sh("echo never"), cwd: dir, logFile, signal: controller.signal });
    expect(before).toMatchObject({ outcome: "cancelled", tail: [] });
  });

  it("escalates a cancel to SIGKILL after the grace period", async () => {
    const controller = new AbortController();
    const result = await runProcess({
      ...node("ignores-sigterm.cjs"),
      cwd: dir,
      logFile,
      killGraceMs: 200,
      signal: controller.signal,
      onLine: (line) => {
        if (line.startsWith("ready")) controller.abort();
      },
    });
    expect(result).toMatchObject({ outcome: "cancelled", signal: "SIGKILL" });
    expect(readLog()).toMatch(/\(SIGTERM, then SIGKILL\)\n$/);
  });

  it("streams 200 MB of output to the log without growing memory", async () => {
    let lines = 0;
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const result = await runProcess({ ...node("flood.cjs", "200"), cwd: dir, logFile, onLine: () => lines++ });
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(result).toMatchObject({ outcome: "exited", exitCode: 0 });
      expect(result.tail.at(-1)).toBe("flood done");
    } finally {
      clearInterval(sampler);
    }
    expect(lines).toBe(200 * 1024 + 1);
    expect(fs.statSync(logFile).size).toBeGreaterThan(200 * 1024 * 1024);
    expect(peak - base).toBeLessThan(150 * 1024 * 1024);
  });

  it("logs a 1 MB line whole, caps it in the tail and in onLine", async () => {
    const seen: string[] = [];
    const result = await runProcess({
      ...node("long-line.cjs", String(2 * 1024 * 1024)),
      cwd: dir,
      logFile,
      onLine: (line) => seen.push(line),
    });
    expect(result.exitCode).toBe(0);
    expect(readLog()).toContain(`out| ${"a".repeat(2 * 1024 * 1024)}\n`);
    expect(seen[0]).toBe(`${"a".repeat(1024 * 1024)} … [${1024 * 1024} more bytes]`);
    expect(seen[1]).toBe("after");
    expect(result.tail[0]).toBe(`${"a".repeat(4096)} … [${2 * 1024 * 1024 - 4096} more bytes]`);
    expect(result.tail[1]).toBe("after");
  });

  it("writes binary output as is and decodes the tail with replacement characters", async () => {
    const result = await runProcess({ ...node("binary.cjs"), cwd: dir, logFile });
    expect(result).toMatchObject({ outcome: "exited", exitCode: 0 });
    expect(result.tail.at(-1)).toBe("end");
    expect(result.tail.join("\n")).toContain("\uFFFD");
    const log = fs.readFileSync(logFile);
    expect(log.includes(Buffer.from([0xff, 0xfe, 0x00, 0x1b]))).toBe(true);
  });

  it("a child that closes stdout early and keeps running ends normally", async () => {
    const result = await runProcess({ command: fixture("closes-stdout.sh"), args: [], cwd: dir, logFile });
    expect(result).toMatchObject({ outcome: "exited", exitCode: 0 });
    expect(result.tail).toEqual(["before close", "still running"]);
  });

  it("killAllLiveGroups kills every running child", async () => {
    const pids: number[] = [];
    const runs = [1, 2].map((n) =>
      runProcess({
        ...node("forever.cjs"),
        cwd: dir,
        logFile: path.join(dir, `forever-${n}.log`),
        onLine: (line) => pids.push(Number(line.split(" ")[1])),
      }),
    );
    await waitFor(() => (pids.length === 2 ? true : undefined));
    expect(liveGroupCount()).toBe(2);
    expect(killAllLiveGroups("SIGTERM")).toBe(2);
    const results = await Promise.all(runs);
    for (const result of results) expect(result).toMatchObject({ outcome: "exited", signal: "SIGTERM" });
    for (const pid of pids) expect(isGone(pid) || (await waitGone(pid))).toBe(true);
    expect(liveGroupCount()).toBe(0);
  });

  it("rejects with a UserError naming the log path when the log cannot be created", async () => {
    const blocker = path.join(dir, "file");
    fs.writeFileSync(blocker, "");
    const bad = path.join(blocker, "steps", "attempt-1.log");
    const error = await runProcess({ ...sh("true"), cwd: dir, logFile: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(bad);
  });
});
