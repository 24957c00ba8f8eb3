import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnPaths, startSpawnServer, type Launched, type NotStarted, type ServerKind, type SpawnServer } from "../../src/proc/spawn-server.js";
import { runProcess } from "../../src/proc/run-process.js";
import { launch } from "../../src/proc/launch.js";
import { tempDir, waitFor, waitGone } from "./helpers.js";

/**
 * The protocol of each spawn server, talked to directly: what launch() relies on whichever
 * interpreter forks (python's posix_spawn, perl's fork). Both run on every Linux CI machine.
 */
let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

async function collect(launched: Launched): Promise<{ status: [number | null, NodeJS.Signals | null]; out: string; err: string }> {
  let out = "";
  let err = "";
  launched.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  launched.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const closed = [launched.stdout, launched.stderr].map((s) => new Promise((resolve) => s.on("close", resolve)));
  const status = await launched.exit;
  await Promise.all(closed);
  launched.release(true);
  return { status, out, err };
}

describe.each<ServerKind>(["python", "perl"])("the %s spawn server", (kind) => {
  const made: SpawnServer[] = [];
  const server = (): SpawnServer => {
    const started = startSpawnServer(kind);
    if (!started) throw new Error(`no ${kind} spawn server on this machine (python3 ≥ 3.8 and perl are expected on Linux CI)`);
    made.push(started);
    return started;
  };
  afterAll(() => made.forEach((s) => s.stop()));

  const start = async (s: SpawnServer, line: string, extra: Partial<{ stdinFile: string; cwd: string; outlive: boolean }> = {}): Promise<Launched> => {
    const launched = await s.launch({ command: "sh", args: ["-c", line], cwd: extra.cwd ?? dir, env, stdinFile: extra.stdinFile, outlive: extra.outlive }, "/bin/sh");
    if (launched === undefined || "errno" in launched) throw new Error(`not started: ${JSON.stringify(launched)}`);
    return launched;
  };

  it("reports the exit code and keeps stdout and stderr apart", async () => {
    const s = server();
    const got = await collect(await start(s, "echo to-out; echo to-err >&2; exit 3"));
    expect(got).toEqual({ status: [3, null], out: "to-out\n", err: "to-err\n" });
  });

  it("reports a signal by name, as a shell's 128+n", async () => {
    const got = await collect(await start(server(), "kill -TERM $$"));
    expect(got.status).toEqual([null, "SIGTERM"]);
  });

  it("runs the job in the cwd, with exactly the environment given and the stdin file", async () => {
    const input = path.join(dir, "in.txt");
    fs.writeFileSync(input, "fed\n");
    fs.mkdirSync(path.join(dir, "sub"));
    const got = await collect(await start(server(), 'pwd; echo "[$ONLY]"; echo "[$HOME]"; cat', { stdinFile: input, cwd: path.join(dir, "sub") }));
    expect(got.out).toBe(`${fs.realpathSync(path.join(dir, "sub"))}\n[]\n[]\nfed\n`);
  });

  it("puts the job in a group of its own that one kill of -pid ends, grandchildren included", async () => {
    const s = server();
    const launched = await start(s, "sleep 30 & echo $!; cut -d' ' -f5 /proc/$$/stat; wait");
    const lines: string[] = [];
    launched.stdout.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    await waitFor(() => (lines.length >= 2 ? true : undefined));
    const grandchild = Number(lines[0]);
    expect(Number(lines[1])).toBe(launched.pid); // the job leads its group
    process.kill(-launched.pid, "SIGKILL");
    expect((await launched.exit)[1]).toBe("SIGKILL");
    expect(await waitGone(grandchild)).toBe(true);
    launched.release(false);
  });

  it("kills the groups of its running jobs when its input closes (ws died, even by kill -9)", async () => {
    const s = server();
    const launched = await start(s, "sleep 30 & echo $!; wait");
    let text = "";
    launched.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    const grandchild = await waitFor(() => (text.includes("\n") ? Number(text.trim()) : undefined));
    s.stop();
    expect(await waitGone(grandchild)).toBe(true);
    expect(await waitGone(launched.pid)).toBe(true);
  });

  it("leaves a job asked to outlive ws (ws's own gits, record G) running when its input closes, and kills the others", async () => {
    const s = server();
    // Each job has opened its streams (perl's child opens them after the pid is known) before the
    // server's input closes and its FIFO folder goes.
    const up = async (launched: Launched): Promise<Launched> => {
      let text = "";
      launched.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      await waitFor(() => (text.includes("up\n") ? true : undefined));
      return launched;
    };
    const kept = await up(await start(s, "echo up; exec sleep 30", { outlive: true }));
    const killed = await up(await start(s, "echo up; exec sleep 30"));
    s.stop();
    expect(await waitGone(killed.pid)).toBe(true);
    expect(() => process.kill(kept.pid, 0)).not.toThrow();
    process.kill(-kept.pid, "SIGKILL");
    expect(await waitGone(kept.pid)).toBe(true);
  });

  it("gives a program it cannot run back as not started (python says why; perl's child exits 127)", async () => {
    const s = server();
    const launched = await s.launch({ command: "nope", args: [], cwd: dir, env }, path.join(dir, "nope"));
    if (kind === "python") {
      expect(launched).toMatchObject({ errno: 2 } satisfies Partial<NotStarted>);
    } else {
      if (launched === undefined || "errno" in launched) throw new Error("perl answers every fork with a pid");
      expect((await collect(launched)).status).toEqual([127, null]);
    }
  });

  it("runs an executable without #! with /bin/sh, as execvp does", async () => {
    const script = path.join(dir, "plain");
    fs.writeFileSync(script, "echo plain-$1\n", { mode: 0o755 });
    const launched = await server().launch({ command: script, args: ["arg"], cwd: dir, env }, script);
    if (launched === undefined || "errno" in launched) throw new Error(`not started: ${JSON.stringify(launched)}`);
    expect((await collect(launched)).out).toBe("plain-arg\n");
  });
});

describe.each(["python", "perl", "direct"])("launch() on the %s path", (mode) => {
  it("creates the file asked for, with its folder, before the child starts (an attempt's log beside its $WS_OUTPUT)", async () => {
    const saved = process.env.WS_SPAWN;
    process.env.WS_SPAWN = mode;
    try {
      const file = path.join(dir, "steps", "s1", "attempt-1.log");
      const launched = await launch({ command: "/bin/sh", args: ["-c", `ls "${path.dirname(file)}"; echo made >> "${path.dirname(file)}/attempt-1.outputs"`], cwd: dir, createFile: file });
      if ("error" in launched) throw new Error(launched.error);
      const got = await collect(launched);
      expect(got.status).toEqual([0, null]);
      // python's server made the log too; elsewhere runProcess opens it before launch.
      expect(got.out).toBe(mode === "python" ? "attempt-1.log\n" : "");
      expect(fs.readFileSync(path.join(path.dirname(file), "attempt-1.outputs"), "utf8")).toBe("made\n");
    } finally {
      if (saved === undefined) delete process.env.WS_SPAWN;
      else process.env.WS_SPAWN = saved;
    }
  });
});

describe("WS_SPAWN", () => {
  it("names the paths in the order they are tried", () => {
    expect(spawnPaths({})).toEqual(["python", "perl", "direct"]);
    expect(spawnPaths({ WS_SPAWN: "python" })).toEqual(["python", "perl", "direct"]);
    expect(spawnPaths({ WS_SPAWN: "perl" })).toEqual(["perl", "direct"]);
    expect(spawnPaths({ WS_SPAWN: "direct" })).toEqual(["direct"]);
  });

  it.each(["python", "perl", "direct"])("a missing program is a spawn_error on the %s path", async (mode) => {
    const saved = process.env.WS_SPAWN;
    process.env.WS_SPAWN = mode;
    try {
      const result = await runProcess({ command: "ws-no-such-program", args: [], cwd: dir, logFile: path.join(dir, "a.log") });
      expect(result).toMatchObject({ outcome: "spawn_error", error: "command not found: ws-no-such-program" });
    } finally {
      if (saved === undefined) delete process.env.WS_SPAWN;
      else process.env.WS_SPAWN = saved;
    }
  });
});
