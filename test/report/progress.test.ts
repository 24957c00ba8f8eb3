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

  it("gives no ETA without history, nor one past the estimate with nothing ended; 0 when all ended", () => {
    expect(progressOf({ selected, ended: (id) => id === "a", elapsedMs: 5000 })).toMatchObject({ fraction: undefined, etaMs: undefined });
    expect(progressOf({ selected, ended: () => false, expectedMs, estimateMs: 80_000, elapsedMs: 90_000 }).etaMs).toBeUndefined();
    expect(progressOf({ selected, ended: () => true, expectedMs, estimateMs: 80_000, elapsedMs: 90_000 })).toMatchObject({ fraction: 1, etaMs: 0 });
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
});
