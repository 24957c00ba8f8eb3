import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runWorkstream, type RunOptions } from "../../src/engine/run-workstream.js";
import type { RunListener } from "../../src/events/listener.js";
import type { RunEvent } from "../../src/events/run-event.js";
import { recordRun } from "../../src/store/recorder.js";
import { wsPaths } from "../../src/store/paths.js";
import { loadRunState } from "../../src/store/snapshot.js";
import { VirtualClock } from "./virtual-clock.js";
import { workstreamOf, type RawInput } from "../helpers/workstream.js";

// The run orchestration in-process: typed refusals, listeners, and time through the injected clock.
let cwd: string;
beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "ws-orchestration-"));
});
afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

function collector(): RunListener & { events: RunEvent[]; closed: number } {
  const c = {
    events: [] as RunEvent[],
    closed: 0,
    onEvent: (event: RunEvent) => void c.events.push(event),
    close: () => void (c.closed += 1),
  };
  return c;
}

async function run(doc: RawInput, options: Partial<RunOptions> = {}) {
  const clock = new VirtualClock();
  const events = collector();
  const workstream = workstreamOf({ execution: { isolation: "none" }, ...doc });
  const outcome = await clock.drive(runWorkstream({ cwd, workstream, clock, env: process.env, listeners: [events], ...options }), 5);
  return { outcome, events, clock, workstream };
}

describe("runWorkstream's typed refusals (no CLI wording in the engine)", () => {
  it("resume without a previous run", async () => {
    const { outcome, events } = await run({ steps: [{ id: "a" }] }, { resume: true });
    expect(outcome).toEqual({ kind: "no_previous_run" });
    expect(events.events).toEqual([]);
  });

  it("an unknown step in the selection names the field and a close match", async () => {
    const { outcome } = await run({ steps: [{ id: "build" }, { id: "test" }] }, { only: ["biuld"] });
    expect(outcome).toMatchObject({ kind: "unknown_step", option: "only", id: "biuld", suggestion: 'did you mean "build"?' });
  });

  it("a far-off name gets no suggestion, the known ids instead", async () => {
    const { outcome } = await run({ steps: [{ id: "lint" }, { id: "test" }] }, { from: "nope" });
    expect(outcome).toMatchObject({ kind: "unknown_step", option: "from", suggestion: 'known ids: "lint", "test"' });
  });

  it("a missing tool binary, with the steps that need it", async () => {
    const { outcome } = await run({
      tools: { ghost: { command: "/nonexistent/ghost-tool", args: ["{prompt}"] } },
      steps: [{ id: "a", tool: "ghost", tasks: ["x"], file_scope: ["a.txt"] }],
    });
    expect(outcome).toMatchObject({ kind: "missing_tools", missing: [{ tool: "ghost", steps: ["a"] }] });
  });

  it("a workstream changed since the run being resumed", async () => {
    const paths = wsPaths(cwd, "ws-test");
    const first = await run({ steps: [{ id: "a", run: "exit 1" }] }, { listeners: recordRun(paths) });
    expect(first.outcome).toMatchObject({ kind: "finished", exitCode: 1 });
    const changed = workstreamOf({ execution: { isolation: "none" }, steps: [{ id: "a" }] });
    const again = await runWorkstream({ cwd, workstream: { ...changed, hash: "1" }, resume: true });
    expect(again).toMatchObject({ kind: "changed_since_run", runId: loadRunState(paths)?.runId });
  });
});

describe("listeners", () => {
  it("every listener sees every event in order, with the folded state, and is closed once", async () => {
    const seen: string[] = [];
    const second: RunListener = { onEvent: (event, state) => void seen.push(`${event.type}:${state.status}`) };
    const first = collector();
    const { outcome } = await run({ steps: [{ id: "a" }, { id: "b", depends_on: ["a"] }] }, { listeners: [first, second] });
    expect(outcome).toMatchObject({ kind: "finished", exitCode: 0 });
    // The run header's warnings (what isolation "none" leaves unprotected) come and go with the setup.
    expect(first.events.map((e) => e.type).filter((t) => t !== "warning")).toEqual(["run-start", "step-start", "attempt-end", "step-end", "step-start", "attempt-end", "step-end", "run-end"]);
    expect(seen).toEqual(first.events.map((e) => `${e.type}:${e.type === "run-end" ? "passed" : "running"}`));
    expect(first.closed).toBe(1);
  });

  it("a listener's answer reaches every listener after the event it answered", async () => {
    const answering: RunListener = {
      onEvent: (event) => (event.type === "run-start" ? [{ type: "warning", at: event.at, message: "from a listener" }] : undefined),
    };
    const all = collector();
    await run({ steps: [{ id: "a" }] }, { listeners: [answering, all] });
    expect(all.events.slice(0, 2).map((e) => (e.type === "warning" ? e.message : e.type))).toEqual(["run-start", "from a listener"]);
  });

  it("a listener's last word before run-end (history's warning) precedes run-end everywhere", async () => {
    const last: RunListener = { onEvent: () => undefined, ending: (_state, at) => [{ type: "warning", at, message: "could not record" }] };
    const all = collector();
    await run({ steps: [{ id: "a" }] }, { listeners: [last, all] });
    expect(all.events.slice(-2).map((e) => (e.type === "warning" ? e.message : e.type))).toEqual(["could not record", "run-end"]);
  });

  it("a listener that throws fails the run, and the others are still closed", async () => {
    const broken: RunListener = {
      onEvent: (event) => {
        if (event.type === "step-end") throw new Error("disk full");
      },
    };
    const other = collector();
    await expect(run({ steps: [{ id: "a" }] }, { listeners: [broken, other] })).rejects.toThrow("disk full");
    expect(other.closed).toBe(1);
  });

  it("the store's recorder makes the run readable by status and resume", async () => {
    const paths = wsPaths(cwd, "ws-test");
    await run({ steps: [{ id: "a" }, { id: "b", run: "exit 3" }] }, { listeners: recordRun(paths) });
    const state = loadRunState(paths);
    expect(state?.steps.a?.state).toBe("passed");
    expect(state?.steps.b).toMatchObject({ state: "failed", reason: { kind: "exit", code: 3 } });
    expect(fs.readFileSync(paths.log, "utf8")).toMatch(/failed b/);
  });
});

describe("time through the injected clock", () => {
  it("rate_limit_delay spaces step starts in the engine's time", async () => {
    const { events, outcome } = await run({
      execution: { isolation: "none", rate_limit_delay: 30, max_workers: 3 },
      steps: [{ id: "a" }, { id: "b" }, { id: "c" }],
    });
    expect(outcome).toMatchObject({ kind: "finished", exitCode: 0 });
    const starts = events.events.filter((e) => e.type === "step-start").map((e) => Date.parse(e.at));
    expect(starts).toHaveLength(3);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(30_000);
  });

  it("an open breaker holds its tool's next step for the cooldown, then lets one trial through", async () => {
    const { events } = await run({
      execution: { isolation: "none", max_workers: 1 },
      circuit_breaker: { failure_threshold: 1, cooldown: 600 },
      tools: { crashy: { command: "/bin/sh", args: ["-c", "exit 9", "{prompt}"] } },
      steps: [
        { id: "a", tool: "crashy", tasks: ["x"], file_scope: ["a"] },
        { id: "b", tool: "crashy", tasks: ["y"], file_scope: ["b"] },
      ],
    });
    const opened = events.events.find((e) => e.type === "breaker" && e.state === "open");
    const trial = events.events.find((e) => e.type === "breaker" && e.state === "half-open");
    const bStart = events.events.find((e) => e.type === "step-start" && e.step === "b");
    expect(opened && trial && bStart).toBeTruthy();
    expect(Date.parse(bStart!.at) - Date.parse(opened!.at)).toBeGreaterThanOrEqual(600_000);
  });

  it("asking for more workers than parallel: false allows says so in a warning", async () => {
    const { events } = await run({ execution: { isolation: "none", parallel: false }, steps: [{ id: "a" }] }, { maxWorkers: 4 });
    expect(events.events.find((e) => e.type === "warning")).toMatchObject({ message: expect.stringMatching(/4 workers .*"parallel": false/) as unknown });
  });
});

describe('max_workers "auto" under a virtual load', () => {
  it("runs one step at a time while the load average is over the cores, and says so once", async () => {
    const steps = ["a", "b", "c"].map((id) => ({ id, tool: "shell", run: "true" }));
    const workstream = workstreamOf({ execution: { isolation: "none", max_workers: "auto" }, steps });
    // Three workers whatever this machine's CPUs: the load alone must bring them down to one.
    workstream.execution.maxWorkers = 3;
    const { events } = await run({ steps }, { workstream, load: { cores: () => 2, loadAverage: () => 9 } });
    let running = 0;
    let most = 0;
    for (const e of events.events) {
      if (e.type === "step-start") most = Math.max(most, ++running);
      if (e.type === "step-end") running -= 1;
    }
    expect(most).toBe(1);
    const notes = events.events.filter((e) => e.type === "warning" && /max_workers "auto"/.test(e.message));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ message: expect.stringMatching(/^load average 9.00 is over the 2 cores: max_workers "auto" backs off to 1 worker \(of 3\)/) });
  });
});

describe("a rejected approval gate", () => {
  const doc = (onReject?: "hold" | "fail"): RawInput => ({
    steps: [
      { id: "staging", compensate: "true" },
      { id: "prod", depends_on: ["staging"], approval: { timeout: 1, ...(onReject ? { on_reject: onReject } : {}) } },
      { id: "smoke", depends_on: ["prod"] },
      { id: "other" },
    ],
  });

  it("holds by default: the step and its dependents stop, the others run, nothing is compensated, exit 4", async () => {
    const { outcome, events } = await run(doc());
    expect(outcome).toMatchObject({ kind: "finished", exitCode: 4 });
    const ends = events.events.filter((e) => e.type === "step-end");
    expect(ends.find((e) => e.step === "prod")).toMatchObject({ state: "cancelled", reason: { kind: "held" }, attempts: 0 });
    expect(ends.find((e) => e.step === "smoke")).toMatchObject({ state: "cancelled" });
    expect(ends.find((e) => e.step === "other")).toMatchObject({ state: "passed" });
    expect(events.events.some((e) => e.type === "rollback-start")).toBe(false);
    expect(events.events.at(-1)).toMatchObject({ type: "run-end", outcome: "held", exitCode: 4 });
  });

  it('on_reject "fail" fails the step and compensates what passed, exit 1', async () => {
    const { outcome, events } = await run(doc("fail"));
    expect(outcome).toMatchObject({ kind: "finished", exitCode: 1 });
    expect(events.events.find((e) => e.type === "step-end" && e.step === "prod")).toMatchObject({ state: "failed", reason: { kind: "rejected" } });
    expect(events.events.find((e) => e.type === "rollback-start")).toMatchObject({ steps: ["staging"] });
    expect(events.events.at(-1)).toMatchObject({ type: "run-end", outcome: "failed" });
  });

  it("a failure elsewhere wins over a hold: the run fails", async () => {
    const failing = doc();
    failing.steps[3] = { id: "other", run: "exit 3" };
    const { outcome, events } = await run(failing);
    expect(outcome).toMatchObject({ kind: "finished", exitCode: 1 });
    expect(events.events.at(-1)).toMatchObject({ type: "run-end", outcome: "failed" });
  });
});
