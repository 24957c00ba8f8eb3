import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gone, isGone, makeProject, readEvents, readState, waitFor, writeWorkstream, ws, wsAsync } from "./rig.js";

// What a step leaves behind or gets to see: daemons in a session of their own (setsid), secrets.

const FIXTURES = fileURLToPath(new URL("../fixtures/proc/", import.meta.url));
const ESCAPES = path.join(FIXTURES, "escapes-session.sh");
const PRINTS_ENV = path.join(FIXTURES, "prints-env.sh");

const daemons: number[] = [];
afterEach(() => {
  for (const pid of daemons.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  cleanup();
});

function daemonIn(file: string): number {
  const pid = Number(fs.readFileSync(file, "utf8").trim());
  daemons.push(pid);
  return pid;
}

const onLinux = fs.existsSync("/proc/self/environ");

describe.runIf(onLinux)("ws run: processes that leave the step's process group", () => {
  it("a setsid daemon started by a step, by an acceptance test, or by a step that times out is killed with its attempt", async () => {
    const p = makeProject([]);
    const pid = (name: string) => path.join(p.dir, `${name}.pid`);
    writeWorkstream(
      p.dir,
      {
        id: "esc",
        execution: { max_workers: 1 },
        steps: [
          { id: "step", run: `${ESCAPES} ${pid("step")}` },
          { id: "test", run: "true", acceptance_tests: [`${ESCAPES} ${pid("test")}`] },
          { id: "slow", run: `${ESCAPES} ${pid("slow")} hang`, timeout: 1 },
        ],
      },
    );
    const r = ws(p, ["run", "--ws-id", "esc"]);
    expect(r.code).toBe(1);
    expect(readState(p, "esc").steps).toMatchObject({ step: { state: "passed" }, test: { state: "passed" }, slow: { reason: "timeout" } });
    for (const name of ["step", "test", "slow"]) expect(await gone(daemonIn(pid(name))), name).toBe(true);
  });

  it("after a kill -9 of ws, the next run kills the daemons its steps left", async () => {
    const p = makeProject([]);
    const pidFile = path.join(p.dir, "daemon.pid");
    // The first run hangs in the step; the re-run finds the marker and passes at once.
    const line = `if [ -e ${p.dir}/ran ]; then exit 0; fi; touch ${p.dir}/ran; ${ESCAPES} ${pidFile} hang`;
    writeWorkstream(p.dir, { id: "crash", steps: [{ id: "s", run: line }] });
    const first = wsAsync(p, ["run", "--ws-id", "crash"]);
    await waitFor("the daemon", () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").trim() !== "");
    process.kill(first.pid, "SIGKILL");
    await first.done;
    const daemon = daemonIn(pidFile);
    expect(isGone(daemon)).toBe(false);

    const again = ws(p, ["run", "--ws-id", "crash"]);
    expect(again.code).toBe(0);
    expect(await gone(daemon)).toBe(true);
    const warnings = readEvents(p, "crash").filter((e) => e.type === "warning").map((e) => String(e.message));
    expect(warnings.some((m) => /left running by an interrupted run/.test(m))).toBe(true);
  });
});

describe("ws run: secrets go only where they are needed", () => {
  const SECRETS = {
    ANTHROPIC_API_KEY: "sk-ant-test-0123456789",
    GITHUB_TOKEN: "ghp_test0123456789abcdef",
    MY_SERVICE_TOKEN: "svc-test-0123456789",
    PLAIN_SETTING: "visible-setting",
  };

  it("shell steps and acceptance tests see none of the key variables; the run header names them", () => {
    const p = makeProject([{ id: "keys", steps: [{ id: "show", run: PRINTS_ENV, acceptance_tests: [`${PRINTS_ENV} >&2; ${PRINTS_ENV} | grep -q 'GITHUB_TOKEN=unset'`] }] }]);
    const r = ws(p, ["run", "--ws-id", "keys"], SECRETS);
    expect(r.code).toBe(0);
    const log = fs.readFileSync(path.join(p.state("keys"), "steps", "show", "attempt-1.log"), "utf8");
    for (const name of ["ANTHROPIC_API_KEY", "GITHUB_TOKEN", "MY_SERVICE_TOKEN", "OPENAI_API_KEY"]) expect(log).toContain(`${name}=unset`);
    expect(log).toContain("PLAIN_SETTING=visible-setting");
    const testLog = fs.readFileSync(path.join(p.state("keys"), "steps", "show", "attempt-1.test-1.log"), "utf8");
    expect(testLog).toContain("ANTHROPIC_API_KEY=unset");
    const header = readEvents(p, "keys").find((e) => e.type === "warning" && /secrets withheld/.test(String(e.message)));
    expect(header?.message).toMatch(/ANTHROPIC_API_KEY \(show, show's tests\)/);
    expect(header?.message).toMatch(/GITHUB_TOKEN/);
    expect(header?.message).toMatch(/MY_SERVICE_TOKEN/);
    expect(header?.message).not.toMatch(/PLAIN_SETTING/);
  });

  it("inherit_env and a step's env pass them on, and no event or log line keeps their values", () => {
    const p = makeProject([
      {
        id: "pass",
        inherit_env: ["GITHUB_TOKEN"],
        steps: [
          // Fails after printing, so its output is in the attempt-end event and the run log too.
          { id: "leaky", run: `${PRINTS_ENV}; echo "detail ${SECRETS.ANTHROPIC_API_KEY}"; exit 1`, inherit_env: ["ANTHROPIC_*"], env: { MY_SERVICE_TOKEN: "from-the-file-0123" } },
        ],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "pass"], SECRETS);
    expect(r.code).toBe(1);
    const log = fs.readFileSync(path.join(p.state("pass"), "steps", "leaky", "attempt-1.log"), "utf8");
    expect(log).toContain(`GITHUB_TOKEN=${SECRETS.GITHUB_TOKEN}`);
    expect(log).toContain(`ANTHROPIC_API_KEY=${SECRETS.ANTHROPIC_API_KEY}`);
    expect(log).toContain("MY_SERVICE_TOKEN=from-the-file-0123");
    const events = fs.readFileSync(path.join(p.state("pass"), "events.jsonl"), "utf8");
    const runLog = fs.readFileSync(path.join(p.state("pass"), "orchestrator.log"), "utf8");
    for (const text of [events, runLog, r.stdout, r.stderr]) {
      for (const value of [SECRETS.GITHUB_TOKEN, SECRETS.ANTHROPIC_API_KEY, "from-the-file-0123"]) expect(text).not.toContain(value);
    }
    expect(events).toContain("GITHUB_TOKEN=***");
    expect(events).toContain("MY_SERVICE_TOKEN=***");
  });

  it("a short secret is masked where it stands as a word, in events and the terminal; ws's own words stay", () => {
    const p = makeProject([
      {
        id: "short",
        steps: [{ id: "test", run: 'echo "login hunter2 ok"; echo "hunter22 stays"; exit 1', env: { DB_PASSWORD: "hunter2", PIN_SECRET: "42", MODE_TOKEN: "test" } }],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "short"]);
    expect(r.code).toBe(1);
    const events = fs.readFileSync(path.join(p.state("short"), "events.jsonl"), "utf8");
    for (const text of [events, r.stdout]) {
      expect(text).toContain("login *** ok");
      expect(text).not.toMatch(/\bhunter2\b/);
      expect(text).toContain("hunter22 stays");
    }
    // The step id and the event types equal to a short secret ("test") are not masked.
    expect(readEvents(p, "short").find((e) => e.type === "step-end")).toMatchObject({ step: "test", state: "failed" });
    expect(ws(p, ["status", "short"]).stdout).toMatch(/test +│ ✖ failed/);
  });
});

describe("ws run: a lock whose pid was reused", () => {
  it("is taken over when its pid now names a process that started after the lock was written", () => {
    const p = makeProject([{ id: "reused", steps: [{ id: "s", run: "true" }] }]);
    // A crashed run's lock; its pid now belongs to an unrelated live process.
    const sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
    daemons.push(sleeper.pid!);
    fs.mkdirSync(p.state("reused"), { recursive: true });
    const startedAt = new Date(Date.now() - 3_600_000).toISOString();
    fs.writeFileSync(path.join(p.state("reused"), "lock"), JSON.stringify({ pid: sleeper.pid, startedAt, host: os.hostname() }) + "\n");
    const r = ws(p, ["run", "--ws-id", "reused"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
