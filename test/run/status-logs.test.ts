import { printedReasons } from "../helpers/reasons.js";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readRecord, recStep, waitFor, wsAsync, type Project, wsc } from "./rig.js";

// The tests run concurrently (most of a test is waiting for ws), so the cleanup waits for all of them.
afterAll(cleanup);

/** ws to completion without blocking the other tests of this file. */

/** ok passes, flaky passes on its third attempt (with an acceptance test), bad fails, after is blocked. */
const MIXED = {
  id: "mixed",
  steps: [
    recStep("ok"),
    recStep("flaky", ["--fail-first", 2, "--say", "hello from flaky"], { retries: 2, acceptance_tests: ["echo checked"] }),
    recStep("bad", ["--exit", 5]),
    recStep("after", [], { depends_on: ["bad"] }),
  ],
};

async function runMixed(): Promise<Project> {
  const p = makeProject([MIXED, { id: "idle", steps: [recStep("x")] }]);
  expect((await wsc(p, ["run", "--ws-id", "mixed"])).code).toBe(1);
  return p;
}

let shared: Promise<Project> | undefined;
/** One mixed run for the tests that only read it (ws status and ws logs leave a run as it is). */
const sharedMixed = (): Promise<Project> => (shared ??= runMixed());

describe.concurrent("ws status", () => {
  it("shows a finished run as a table: state, attempts, reason, log of each step", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["status", "--ws-id", "mixed"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^mixed: failed · run \S+ · started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · \S+ · 2\/4 passed$/);
    const row = (id: string) => lines.find((l) => l.includes(` ${id} `)) ?? "";
    expect(row("ok")).toMatch(/✔ passed\s*│\s*1\s*│/);
    expect(row("flaky")).toMatch(/✔ passed\s*│\s*3\s*│/);
    expect(row("flaky")).toContain(".worktrees/mixed/steps/flaky/attempt-3.log");
    expect(row("bad")).toMatch(/✖ failed\s*│\s*1\s*│.*exit:5/);
    expect(row("after")).toMatch(/⊘ blocked\s*│.*blocked_by:bad/);
  });

  it("fits the terminal: at 80 columns no line of the table wraps", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["status", "mixed"], { COLUMNS: "80" });
    expect(r.code).toBe(0);
    const table = r.stdout.split("\n").filter((l) => /^[┌│└]/.test(l));
    expect(table.length).toBeGreaterThan(4);
    for (const line of table) expect([...line].length, line).toBeLessThanOrEqual(80);
    // A cut log path finds no file: the column goes, and ws logs finds each step's.
    expect(r.stdout).not.toContain("attempt-3.log");
    expect(r.stdout).toContain("logs: ws logs mixed --step <step>");
    expect(r.stdout).toContain("exit:5");
  });

  it("shows steps a run did not select as `not selected`, not `pending`", async () => {
    const p = makeProject([{ id: "sel", steps: [recStep("a"), recStep("b"), recStep("c", [], { depends_on: ["a"] })] }]);
    const run = await wsc(p, ["run", "sel", "--only", "b"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ a +│ – not selected/);
    const status = await wsc(p, ["status", "sel"]);
    expect(status.stdout).toMatch(/ a +│ – not selected/);
    expect(status.stdout).toMatch(/ c +│ – not selected/);
    expect(status.stdout).toMatch(/ b +│ ✔ passed/);
    expect(status.stdout).not.toContain("pending");
  });

  it("counts rather than lists the steps a run did not select when there are more than 50; --all lists them", async () => {
    // 60 steps, one selected: 59 rows of "– not selected" would bury the one that ran.
    const steps = Array.from({ length: 60 }, (_, i) => recStep(`s${i}`));
    const p = makeProject([{ id: "many", steps }]);
    const run = await wsc(p, ["run", "many", "--only", "s7"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("1 passed step and 59 not selected not listed (all of them: ws status --ws-id many --all)");
    const status = await wsc(p, ["status", "many"]);
    expect(status.code).toBe(0);
    const rows = status.stdout.split("\n").filter((l) => l.startsWith("│"));
    expect(rows).toHaveLength(2); // the header and s7
    expect(rows[1]).toMatch(/ s7 +│ ✔ passed/);
    expect(status.stdout).toContain("59 steps this run did not select are not listed (all of them: ws status --ws-id many --all)");
    const all = await wsc(p, ["status", "many", "--all"]);
    expect(all.stdout.split("\n").filter((l) => l.startsWith("│"))).toHaveLength(61);
    expect(all.stdout).toMatch(/ s59 +│ – not selected/);
    expect(all.stdout).not.toContain("not listed");
  });

  it("lists up to 50 steps a run did not select, as before", async () => {
    const steps = Array.from({ length: 51 }, (_, i) => recStep(`s${i}`));
    const p = makeProject([{ id: "fifty", steps }]);
    expect((await wsc(p, ["run", "fifty", "--only", "s0"])).code).toBe(0);
    const status = await wsc(p, ["status", "fifty"]);
    expect(status.stdout.split("\n").filter((l) => l.startsWith("│"))).toHaveLength(52);
    expect(status.stdout).not.toContain("not listed");
  });

  it("--json gives the whole state of the run", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["status", "--ws-id", "mixed", "--json"]);
    expect(r.code).toBe(0);
    const state = JSON.parse(r.stdout, printedReasons) as Record<string, unknown>;
    expect(state).toMatchObject({
      wsId: "mixed",
      status: "failed",
      exitCode: 1,
      interrupted: false,
      order: ["ok", "flaky", "bad", "after"],
      steps: {
        ok: { state: "passed", attempts: 1 },
        flaky: { state: "passed", attempts: 3, log: "steps/flaky/attempt-3.log" },
        bad: { state: "failed", reason: "exit:5" },
        after: { state: "blocked", reason: "blocked_by:bad", attempts: 0 },
      },
    });
  });

  it("without --ws-id lists every workstream with its last run (table and --json)", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/idle\s*│\s*never run/);
    expect(r.stdout).toMatch(/mixed\s*│\s*failed\s*│\s*2\/4/);
    const json = JSON.parse((await wsc(p, ["status", "--json"])).stdout) as Array<{ id: string; lastRun: { status: string; passed: number; total: number } | null }>;
    expect(json).toEqual([
      { id: "idle", lastRun: null },
      { id: "mixed", lastRun: expect.objectContaining({ status: "failed", passed: 2, total: 4 }) as unknown },
    ]);
  });

  it("reads a run in progress from another process, then the same run finished", async () => {
    const p = makeProject([]);
    const go = path.join(p.dir, "go");
    fs.mkdirSync(path.join(p.dir, "workstreams"));
    fs.writeFileSync(
      path.join(p.dir, "workstreams", "live.json"),
      JSON.stringify({ id: "live", steps: [recStep("first"), recStep("waits", ["--wait-file", go], { depends_on: ["first"] }), recStep("last", [], { depends_on: ["waits"] })] }),
    );
    const run = wsAsync(p, ["run", "--ws-id", "live"]);
    await waitFor("waits started", () => readRecord(p).some((l) => l.id === "waits" && l.event === "start"));

    const json = await wsc(p, ["status", "--ws-id", "live", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: "running",
      interrupted: false,
      pid: run.pid,
      steps: { first: { state: "passed" }, waits: { state: "running", attempts: 1 }, last: { state: "pending" } },
    });
    const table = await wsc(p, ["status", "--ws-id", "live"]);
    expect(table.stdout).toMatch(/^live: running /);
    expect(table.stdout).toMatch(/waits\s*│\s*▶ running/);
    expect(table.stdout).not.toContain("interrupted");
    expect((await wsc(p, ["status"])).stdout).toMatch(/live\s*│\s*running\s*│\s*1\/3/);

    fs.writeFileSync(go, "");
    expect((await run.done).code).toBe(0);
    expect(JSON.parse((await wsc(p, ["status", "--ws-id", "live", "--json"])).stdout)).toMatchObject({ status: "passed", steps: { last: { state: "passed" } } });
  });

  it("says a run whose process died (kill -9) was interrupted, and how to continue", async () => {
    const p = makeProject([{ id: "dead", steps: [recStep("waits", ["--hang"]), recStep("gated", [], { approval: true })] }]);
    const run = wsAsync(p, ["run", "--ws-id", "dead"]);
    const step = await waitFor("waits started", () => readRecord(p).find((l) => l.id === "waits" && l.event === "start"));
    await waitFor("the gate to wait", () => readEvents(p, "dead").some((e) => e.type === "approval-wait"));
    process.kill(run.pid, "SIGKILL");
    await run.done;
    // The step may outlive ws (WS_SPAWN=direct), or only for a moment (by default the spawn
    // server kills its jobs when ws dies), so its group may be gone already: kill what is left.
    try {
      process.kill(-step.pgid, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }

    const table = await wsc(p, ["status", "--ws-id", "dead"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^dead: interrupted /);
    expect(table.stdout).toContain(`the run was interrupted (its process ${run.pid} is gone); continue with: ws run --ws-id dead --resume`);
    // Nothing of a dead run is still running or waiting.
    expect(table.stdout).not.toContain("▶");
    expect(table.stdout).not.toContain("waiting for approval");
    expect(table.stdout).toMatch(/waits +│ ■ cancelled .*interrupted \(ws is gone\)/);
    expect(table.stdout).toMatch(/gated +│ ■ cancelled .*interrupted at its approval gate/);
    expect(JSON.parse((await wsc(p, ["status", "--ws-id", "dead", "--json"])).stdout)).toMatchObject({ status: "running", interrupted: true });
    expect((await wsc(p, ["status"])).stdout).toMatch(/dead\s*│\s*interrupted/);
    // ws list reads the run through the same query: it must not call a dead run "running".
    expect((await wsc(p, ["list"])).stdout).toMatch(/^dead\s.*\binterrupted$/m);
    expect(JSON.parse((await wsc(p, ["list", "--json"])).stdout)).toMatchObject({ workstreams: [{ id: "dead", lastRun: "interrupted" }] });
  });

  it("refuses an id that names a path outside .worktrees, before reading anything (exit 2)", async () => {
    const p = makeProject([{ id: "idle", steps: [recStep("x")] }]);
    // A state folder outside .worktrees that a path-like id could reach.
    fs.mkdirSync(path.join(p.dir, "secret"), { recursive: true });
    fs.writeFileSync(path.join(p.dir, "secret", "events.jsonl"), "");
    for (const args of [["status", "--ws-id", "../secret"], ["status", "../secret"], ["logs", "../secret"], ["graph", "../secret"], ["run", "../secret"], ["export", "github", "../secret"]]) {
      const r = await wsc(p, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain('invalid workstream id "../secret"');
    }
  });

  it("an unknown workstream is a usage error (exit 2); a known one never run says so", async () => {
    const p = makeProject([{ id: "idle", steps: [recStep("x")] }]);
    const unknown = await wsc(p, ["status", "--ws-id", "idel"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("idle");
    const idle = await wsc(p, ["status", "--ws-id", "idle"]);
    expect(idle.code).toBe(0);
    expect(idle.stdout).toContain("idle: no run yet (start one with: ws run --ws-id idle)");
  });
});

describe.concurrent("ws logs", () => {
  it("an unknown step is unknown (with a suggestion), a skipped one says it was skipped and why", async () => {
    const p = makeProject([{ id: "cond", steps: [recStep("build"), recStep("deploy", [], { when: "${env.NOT_SET_ANYWHERE == 'yes'}" })] }]);
    expect((await wsc(p, ["run", "cond"])).code).toBe(0);
    const typo = await wsc(p, ["logs", "cond", "--step", "biuld"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown step "biuld" in cond');
    expect(typo.stderr).toContain('did you mean "build"?');
    const skipped = await wsc(p, ["logs", "cond", "--step", "deploy"]);
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toContain('step "deploy" of cond was skipped in the last run (its `when` condition was false)');
  });

  it("without --step shows the last run only; --all shows every run", async () => {
    const p = await runMixed();
    expect((await wsc(p, ["run", "mixed", "--only", "ok"])).code).toBe(0);
    const last = await wsc(p, ["logs", "mixed"]);
    expect(last.code).toBe(0);
    expect(last.stdout.match(/ run \S+ of mixed/g)).toHaveLength(1);
    expect(last.stdout).toContain("1/4 steps");
    expect(last.stdout).not.toContain("start  flaky");
    const all = await wsc(p, ["logs", "mixed", "--all"]);
    expect(all.stdout.match(/ run \S+ of mixed/g)).toHaveLength(2);
    expect(all.stdout).toContain("start  flaky");
  });


  it("without --step prints the orchestrator log", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["logs", "--ws-id", "mixed"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    expect(r.stdout).toContain("start  flaky (attempt 3, shell)");
    expect(r.stdout).toContain("blocked after (blocked_by:bad)");
    expect(lines.at(-1)).toMatch(/run failed in .*, exit 1$/);
  });

  it("--step prints the latest attempt's output, then its acceptance tests' logs", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["logs", "--ws-id", "mixed", "--step", "flaky"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("==> .worktrees/mixed/steps/flaky/attempt-3.log <==");
    expect(r.stdout).toContain("out| hello from flaky (invocation 3)");
    expect(r.stdout).toContain("==> .worktrees/mixed/steps/flaky/attempt-3.test-1.log <==");
    expect(r.stdout).toContain("out| checked");
    expect(r.stdout).not.toContain("invocation 1");
  });

  it("--attempt picks an earlier attempt", async () => {
    const p = await sharedMixed();
    const r = await wsc(p, ["logs", "--ws-id", "mixed", "--step", "flaky", "--attempt", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("out| hello from flaky (invocation 1)");
    expect(r.stdout).toContain("err| flaky fails with 1 (invocation 1)");
    expect(r.stdout).toContain("exit 1 after");
    expect(r.stdout).not.toContain("invocation 3");
    // A failed attempt ran no acceptance test: just the one file, no header.
    expect(r.stdout).not.toContain("==>");
  });

  it("explains what is missing: an attempt that never ran, a step with no logs, a workstream never run (exit 2)", async () => {
    const p = await sharedMixed();
    const noAttempt = await wsc(p, ["logs", "--ws-id", "mixed", "--step", "flaky", "--attempt", "9"]);
    expect(noAttempt.code).toBe(2);
    expect(noAttempt.stderr).toContain('step "flaky" has no attempt 9');
    expect(noAttempt.stderr).toContain("attempts logged: 1, 2, 3");
    const blocked = await wsc(p, ["logs", "--ws-id", "mixed", "--step", "after"]);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toContain('step "after" of mixed did not run in the last run: blocked_by:bad');
    const never = await wsc(p, ["logs", "--ws-id", "idle"]);
    expect(never.code).toBe(2);
    expect(never.stderr).toContain("idle has not run yet");
  });
});
