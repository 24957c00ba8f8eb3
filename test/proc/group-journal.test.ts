import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { reapGroups, runRecorded } from "../../src/store/group-registry.js";
import { startTicks } from "../../src/proc/process-start.js";
import { isGone, tempDir, waitFor, waitGone } from "./helpers.js";

// The journal of process groups is what the next run reads after a kill -9 of ws.

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // reaped, as it should be
    }
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function sleeper(): number {
  const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
  child.unref();
  pids.push(child.pid!);
  return child.pid!;
}

describe.runIf(process.platform === "linux")("group journal", () => {
  it("kills the groups recorded and not swept, skips a line cut short, and starts the next run afresh", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journal = path.join(dir, "groups.log");
    const orphan = sleeper();
    const swept = sleeper();
    const wrongStart = sleeper();
    fs.writeFileSync(
      journal,
      [`+ ${orphan} ${startTicks(orphan)} r:s:1`, `+ ${swept} ${startTicks(swept)}`, `- ${swept}`, `+ ${wrongStart} 1`, `+ 12`].join("\n"),
    );
    expect(reapGroups(journal)).toBe(1);
    await waitGone(orphan);
    expect(isGone(swept)).toBe(false);
    // A pid whose start differs is another process now: never killed.
    expect(isGone(wrongStart)).toBe(false);
    expect(fs.existsSync(journal)).toBe(false);
  });

  it("kills what carries a recorded cookie even when ws died before the group's line", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journal = path.join(dir, "groups.log");
    const cookie = (n: number) => `r${process.pid}-${Date.now()}:s:${n}`;
    const [mine, other] = [cookie(2), cookie(3)];
    // A daemon in a session of its own (detached: setsid), started before ws learnt its step's
    // pid: only the cookie names it.
    const daemon = spawn("sleep", ["300"], { detached: true, stdio: "ignore", env: { ...process.env, WS_ATTEMPT_COOKIE: mine } });
    daemon.unref();
    pids.push(daemon.pid!);
    const stranger = spawn("sleep", ["300"], { detached: true, stdio: "ignore", env: { ...process.env, WS_ATTEMPT_COOKIE: other } });
    stranger.unref();
    pids.push(stranger.pid!);
    await waitFor(() => (fs.readFileSync(`/proc/${daemon.pid}/environ`).includes(mine) ? true : undefined));
    fs.writeFileSync(journal, `m ${mine}\n`);
    expect(reapGroups(journal)).toBe(1);
    await waitGone(daemon.pid!);
    expect(isGone(stranger.pid!)).toBe(false);
  });

  it("records the attempt's cookie before it spawns, then the group while it runs, and sweeps it when it ends", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journal = path.join(dir, "groups.log");
    const proc = await runRecorded(journal, {
      command: "/bin/sh",
      args: ["-c", 'while [ "$(wc -l < "$0")" -lt 2 ]; do sleep 0.02; done', journal],
      cwd: dir,
      logFile: path.join(dir, "a.log"),
      contain: { mark: "r:s:9" },
    });
    expect(proc.exitCode).toBe(0);
    expect(fs.readFileSync(journal, "utf8").trim().split("\n")).toEqual(["m r:s:9", expect.stringMatching(new RegExp(`^\\+ ${proc.pid} \\d+$`)), `- ${proc.pid} r:s:9`]);
  });

  it("does not look for a cookie again once its attempt's own sweep took it, and still does for one not swept", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journal = path.join(dir, "groups.log");
    const [swept, unswept] = [`r${process.pid}-${Date.now()}:s:4`, `r${process.pid}-${Date.now()}:s:5`];
    // Stand-ins that carry each cookie (a real sweep would have killed the first one).
    const carriers = [swept, unswept].map((mark) => {
      const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore", env: { ...process.env, WS_ATTEMPT_COOKIE: mark } });
      child.unref();
      pids.push(child.pid!);
      return child.pid!;
    });
    for (const [k, mark] of [swept, unswept].entries()) await waitFor(() => (fs.readFileSync(`/proc/${carriers[k]}/environ`).includes(mark) ? true : undefined));
    fs.writeFileSync(journal, [`m ${swept}`, `+ 12345678 1`, `- 12345678 ${swept}`, `m ${unswept}`].join("\n"));
    expect(reapGroups(journal)).toBe(1);
    await waitGone(carriers[1]!);
    expect(isGone(carriers[0]!)).toBe(false);
  });

  it("records a group while it runs and sweeps it when it ends", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journal = path.join(dir, "groups.log");
    const seen: string[] = [];
    const proc = await runRecorded(journal, {
      command: "/bin/sh",
      // ws records the group just after the spawn: wait for the line, then show it.
      args: ["-c", 'while [ ! -s "$0" ]; do sleep 0.02; done; cat "$0"', journal],
      cwd: dir,
      logFile: path.join(dir, "a.log"),
      onLine: (line) => seen.push(line),
    });
    expect(proc.exitCode).toBe(0);
    expect(seen[0]).toMatch(new RegExp(`^\\+ ${proc.pid} \\d+$`));
    expect(fs.readFileSync(journal, "utf8").trim().split("\n").at(-1)).toBe(`- ${proc.pid}`);
    expect(reapGroups(journal)).toBe(0);
  });
});
