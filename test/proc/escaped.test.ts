import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProcess } from "../../src/proc/run-process.js";
import { attemptMark, canFindMarked, findMarked, killMarked, markIn, MARK_VARIABLE } from "../../src/proc/attempt-mark.js";
import { containLaunch } from "../../src/proc/containment.js";
import { fixture, isGone, tempDir, waitGone } from "./helpers.js";

// A daemon started with setsid leaves the step's process group; the attempt's cookie still finds it.

let dir: string;
const daemons: number[] = [];
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  for (const pid of daemons.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function daemonPid(file: string): number {
  const pid = Number(fs.readFileSync(file, "utf8").trim());
  daemons.push(pid);
  return pid;
}

describe("attempt cookie", () => {
  it("finds the cookie only as a whole variable of the environment image", () => {
    expect(markIn(Buffer.from(`A=1\0${MARK_VARIABLE}=r1:s:2\0B=2\0`))).toBe("r1:s:2");
    expect(markIn(Buffer.from(`${MARK_VARIABLE}=first\0`))).toBe("first");
    expect(markIn(Buffer.from(`X_${MARK_VARIABLE}=nope\0`))).toBeUndefined();
    expect(markIn(Buffer.from(""))).toBeUndefined();
  });

  it("is a pure addition to the launch, with withheld variables removed", () => {
    const launch = { command: "/bin/sh", args: ["-c", "true"], env: { PATH: "/bin", SECRET_TOKEN: "x" } };
    const out = containLaunch(launch, { mark: "run:s:1", withhold: ["SECRET_TOKEN"] });
    expect(out).toEqual({ command: "/bin/sh", args: ["-c", "true"], env: { PATH: "/bin", [MARK_VARIABLE]: "run:s:1" } });
    expect(launch.env).toEqual({ PATH: "/bin", SECRET_TOKEN: "x" });
  });
});

describe.runIf(canFindMarked())("runProcess with a cookie (Linux /proc)", () => {
  it("kills a setsid daemon the step left behind when the step exits", async () => {
    const pidFile = path.join(dir, "daemon.pid");
    const mark = attemptMark("t1", "daemon", 1);
    const result = await runProcess({
      command: fixture("escapes-session.sh"),
      args: [pidFile],
      cwd: dir,
      logFile: path.join(dir, "a.log"),
      contain: { mark },
    });
    expect(result).toMatchObject({ exitCode: 0, outcome: "exited" });
    const daemon = daemonPid(pidFile);
    expect(await waitGone(daemon)).toBe(true);
    expect(findMarked((m) => m === mark)).toEqual([]);
  });

  it("kills it on a timeout too", async () => {
    const pidFile = path.join(dir, "daemon.pid");
    const result = await runProcess({
      command: fixture("escapes-session.sh"),
      args: [pidFile, "hang"],
      cwd: dir,
      logFile: path.join(dir, "a.log"),
      timeoutMs: 1000,
      contain: { mark: attemptMark("t2", "daemon", 1) },
    });
    expect(result.outcome).toBe("timeout");
    expect(await waitGone(daemonPid(pidFile))).toBe(true);
  });

  it("kills it when the attempt is cancelled", async () => {
    const pidFile = path.join(dir, "daemon.pid");
    const controller = new AbortController();
    const running = runProcess({
      command: fixture("escapes-session.sh"),
      args: [pidFile, "hang"],
      cwd: dir,
      logFile: path.join(dir, "a.log"),
      signal: controller.signal,
      onLine: (line) => {
        if (line.startsWith("daemon ")) controller.abort();
      },
      contain: { mark: attemptMark("t4", "daemon", 1) },
    });
    expect((await running).outcome).toBe("cancelled");
    expect(await waitGone(daemonPid(pidFile))).toBe(true);
  });

  it("without a cookie the daemon survives the group kill (what the cookie is for)", async () => {
    const pidFile = path.join(dir, "daemon.pid");
    await runProcess({ command: fixture("escapes-session.sh"), args: [pidFile], cwd: dir, logFile: path.join(dir, "a.log") });
    const daemon = daemonPid(pidFile);
    expect(isGone(daemon)).toBe(false);
  });

  it("leaves processes of other attempts alone", async () => {
    const pidFile = path.join(dir, "daemon.pid");
    await runProcess({
      command: fixture("escapes-session.sh"),
      args: [pidFile],
      cwd: dir,
      logFile: path.join(dir, "a.log"),
      env: { [MARK_VARIABLE]: "other-run:s:1" },
    });
    const daemon = daemonPid(pidFile);
    expect(killMarked((m) => m === "t3:s:1")).toBe(0);
    expect(isGone(daemon)).toBe(false);
    expect(findMarked((m) => m.startsWith("other-run:"))).toEqual([daemon]);
    // Only pids handed out after `after` are read (the window of an attempt that started later).
    expect(findMarked((m) => m.startsWith("other-run:"), daemon)).toEqual([]);
    expect(findMarked((m) => m.startsWith("other-run:"), daemon - 1)).toEqual([daemon]);
    // A window wider than the probed one lists /proc instead: the same answer.
    expect(findMarked((m) => m.startsWith("other-run:"), Math.max(1, daemon - 1000))).toEqual([daemon]);
  });
});
