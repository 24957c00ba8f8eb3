import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { progressOf } from "../../src/report/progress.js";
import { RunReporter } from "../../src/cli/run-reporter.js";
import type { CliContext } from "../../src/cli/context.js";

const expectedMs = { a: 60_000, b: 20_000, c: 20_000 };
const selected = ["a", "b", "c"];

describe("progressOf", () => {
  it("weighs ended steps by their expected duration", () => {
    const p = progressOf({ selected, ended: (id) => id === "a", expectedMs, estimateMs: 80_000, elapsedMs: 60_000 });
    expect(p).toMatchObject({ done: 1, total: 3, fraction: 0.6 });
  });

  it("starts from the plan's estimate and leans on the run's own pace as work ends", () => {
    const start = progressOf({ selected, ended: () => false, expectedMs, estimateMs: 80_000, elapsedMs: 10_000 });
    expect(start.etaMs).toBe(70_000);
    // 60 % done in 120 s: the plan says 0 left (it expected 80 s), the pace says 80 s; 60 % of the weight goes to the pace.
    const slow = progressOf({ selected, ended: (id) => id === "a", expectedMs, estimateMs: 80_000, elapsedMs: 120_000 });
    expect(slow.etaMs).toBe(Math.round(0.4 * -40_000 + 0.6 * 80_000));
  });

  it("without history (a first run) the ETA comes from the pace alone; none before any work is done, nor past the estimate with nothing ended; 0 when all ended", () => {
    expect(progressOf({ selected, ended: (id) => id === "a", elapsedMs: 5000 })).toMatchObject({ fraction: undefined, etaMs: 10_000 });
    expect(progressOf({ selected, ended: () => false, elapsedMs: 5000 }).etaMs).toBeUndefined();
    expect(progressOf({ selected, ended: () => false, expectedMs, estimateMs: 80_000, elapsedMs: 90_000 }).etaMs).toBeUndefined();
    expect(progressOf({ selected, ended: () => true, expectedMs, estimateMs: 80_000, elapsedMs: 90_000 })).toMatchObject({ fraction: 1, etaMs: 0 });
  });
});

describe("progressOf with step weights and a step's own progress", () => {
  it("counts a running step by what it reported, weighted, so the share and the ETA move between step ends", () => {
    const weights = { a: 2, b: 1, c: 1 };
    const before = progressOf({ selected, ended: () => false, weights, partial: () => undefined, elapsedMs: 10_000 });
    expect(before).toMatchObject({ fraction: 0, etaMs: undefined });
    const half = progressOf({ selected, ended: () => false, weights, partial: (id) => (id === "a" ? 0.5 : undefined), elapsedMs: 10_000 });
    expect(half).toMatchObject({ done: 0, fraction: 0.25, etaMs: 30_000 });
    const more = progressOf({ selected, ended: () => false, weights, partial: (id) => (id === "a" ? 1 : id === "b" ? 0.5 : undefined), elapsedMs: 15_000 });
    expect(more).toMatchObject({ fraction: 5 / 8, etaMs: 9000 });
  });

  it("explicit weights win over history; a first run with progress reports gets a share from weight 1 each", () => {
    expect(progressOf({ selected, ended: (id) => id === "b", expectedMs, weights: { a: 1, b: 3, c: 1 }, elapsedMs: 1 }).fraction).toBe(0.6);
    expect(progressOf({ selected, ended: (id) => id === "b", partial: (id) => (id === "a" ? 0.5 : undefined), elapsedMs: 1 }).fraction).toBe(0.5);
  });
});

describe("plain output's progress line", () => {
  function plainReporter() {
    const lines: string[] = [];
    const ctx = { quiet: false, stdout: { write: (s: string) => lines.push(...s.split("\n").filter(Boolean)) } } as unknown as CliContext;
    return { reporter: new RunReporter(ctx, "plain", new Chalk({ level: 0 })), lines };
  }
  const t0 = Date.parse("2026-11-30T12:00:00.000Z");
  const at = (ms: number) => new Date(t0 + ms).toISOString();

  it("prints one after 10 s without a line, never more often, weighted by the expected work", () => {
    const { reporter, lines } = plainReporter();
    const base = { runId: "r", wsId: "w", file: "f", hash: "h", steps: selected, selected, maxWorkers: 2, pid: 1, resume: false, workdir: "/w" };
    reporter.onEvent({ type: "run-start", at: at(0), ...base, estimateMs: 80_000, expectedMs });
    reporter.onEvent({ type: "step-start", at: at(0), step: "a", attempt: 1, tool: "shell" });
    reporter.onEvent({ type: "step-end", at: at(0), step: "a", state: "passed", reason: { kind: "passed" }, attempts: 1, durationMs: 1 });
    reporter.onEvent({ type: "step-start", at: at(0), step: "b", attempt: 1, tool: "shell" });
    const before = lines.length;
    const quietFrom = Date.now();
    reporter.quietTick(quietFrom + 9_000);
    expect(lines.length).toBe(before);
    reporter.quietTick(quietFrom + 10_500);
    expect(lines.length).toBe(before + 1);
    expect(lines.at(-1)).toMatch(/ progress: 1\/3 done \(60% of the expected work\) · running: b · \S+/);
    reporter.quietTick(quietFrom + 15_000);
    expect(lines.length).toBe(before + 1);
    reporter.close();
  });

  it("shows a running step's own progress in the share and beside its name, and prints no line per progress event", () => {
    const { reporter, lines } = plainReporter();
    const base = { runId: "r", wsId: "w", file: "f", hash: "h", steps: selected, selected, maxWorkers: 2, pid: 1, resume: false, workdir: "/w" };
    reporter.onEvent({ type: "run-start", at: at(0), ...base, weights: { a: 2, b: 1, c: 1 } });
    reporter.onEvent({ type: "step-start", at: at(0), step: "a", attempt: 1, tool: "shell" });
    const before = lines.length;
    reporter.onEvent({ type: "progress", at: at(0), step: "a", attempt: 1, fraction: 0.5 });
    expect(lines.length).toBe(before);
    reporter.quietTick(Date.now() + 10_500);
    expect(lines.at(-1)).toMatch(/ progress: 0\/3 done \(25% of the expected work\) · running: a 50% · \S+ · ETA \S+$/);
    reporter.close();
  });
});

describe("a lane's setup, before and during the run", () => {
  // Ticks come from the clock: the run started a minute ago.
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const base = { runId: "r", wsId: "w", file: "f", hash: "h", steps: selected, selected, maxWorkers: 2, pid: 1, resume: false, workdir: "/w" };

  it("is said as it starts, with its log, in plain output", () => {
    const lines: string[] = [];
    const ctx = { quiet: false, stdout: { write: (s: string) => lines.push(...s.split("\n").filter(Boolean)) } } as unknown as CliContext;
    const reporter = new RunReporter(ctx, "plain", new Chalk({ level: 0 }));
    reporter.setupStarted({ lane: 1, command: "npm ci", logFile: "/p/.worktrees/w/lanes/lane-1/setup.log" }, t0);
    expect(lines).toEqual([`${at(0).slice(11, 23)} setting up lane-1: worktree.setup "npm ci" (output: /p/.worktrees/w/lanes/lane-1/setup.log)`]);
    reporter.close();
  });

  it("names the steps whose lane is still being set up after a second in the progress line", () => {
    const lines: string[] = [];
    const ctx = { quiet: false, stdout: { write: (s: string) => lines.push(...s.split("\n").filter(Boolean)) } } as unknown as CliContext;
    const reporter = new RunReporter(ctx, "plain", new Chalk({ level: 0 }));
    reporter.onEvent({ type: "run-start", at: at(0), ...base });
    reporter.onEvent({ type: "step-wait", at: at(0), step: "a", wait: "lane" });
    reporter.onEvent({ type: "step-wait", at: at(0), step: "b", wait: "lane" });
    reporter.onEvent({ type: "step-start", at: at(5), step: "b", attempt: 1, tool: "shell" });
    reporter.quietTick(Date.now() + 10_500);
    expect(lines.at(-1)).toMatch(/ progress: 0\/3 done · running: b · lane being set up for: a · /);
    reporter.onEvent({ type: "step-start", at: at(6000), step: "a", attempt: 1, tool: "shell" });
    reporter.quietTick(Date.now() + 21_000);
    expect(lines.at(-1)).not.toContain("lane being set up");
    reporter.close();
  });
});

describe("the terminal's step lines", () => {
  it("give a step's time, and none for a step that never started (no \"0ms\" for a cancelled one)", () => {
    const lines: string[] = [];
    const ctx = { quiet: false, stdout: { write: (s: string) => lines.push(...s.split("\n").filter(Boolean)) } } as unknown as CliContext;
    const reporter = new RunReporter(ctx, "tty", new Chalk({ level: 0 }));
    const at = "2026-12-04T19:00:00.000Z";
    reporter.onEvent({ type: "step-end", at, step: "b", state: "cancelled", reason: { kind: "cancelled" }, attempts: 1, durationMs: 4800 });
    reporter.onEvent({ type: "step-end", at, step: "d", state: "cancelled", reason: { kind: "cancelled" }, attempts: 0, durationMs: 0 });
    expect(lines).toEqual(["■ b cancelled 4.8s", "■ d cancelled"]);
    reporter.close();
  });
});
