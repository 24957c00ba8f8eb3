import { reason } from "../helpers/reasons.js";
import type { RunEvent, Usage } from "../../src/events/run-event.js";

/** Builds the event log of a run by hand, in the order the engine emits it. */
export class RunLog {
  readonly events: RunEvent[] = [];
  private clock = Date.parse("2026-11-22T10:00:00.000Z");

  private at(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  start(wsId: string, steps: string[], options: { selected?: string[]; resume?: boolean } = {}): this {
    this.events.push({
      type: "run-start", at: this.at(), runId: `run-${this.events.length}`, wsId, file: `/tmp/${wsId}.json`, hash: "0",
      steps, selected: options.selected ?? steps, maxWorkers: 2, pid: 1, resume: options.resume ?? false, workdir: "/tmp",
    });
    return this;
  }

  attempt(
    step: string,
    attempt: number,
    outcome: { passed: boolean; reason?: string; tail?: string[]; detail?: string; usage?: Usage; exitCode?: number | null },
    tests: Array<{ command: string; passed: boolean; exitCode?: number; tail?: string[] }> = [],
  ): this {
    this.events.push({ type: "step-start", at: this.at(), step, attempt, tool: "shell" });
    tests.forEach((t, k) => {
      const index = k + 1; // 1-based, as the engine numbers tests (attempt-n.test-k.log)
      this.events.push({ type: "test-start", at: this.at(), step, attempt, index, command: t.command });
      this.events.push({
        type: "test-end", at: this.at(), step, attempt, index, command: t.command, passed: t.passed,
        reason: reason(t.passed ? "passed" : `exit:${t.exitCode ?? 1}`), exitCode: t.exitCode ?? (t.passed ? 0 : 1),
        durationMs: 500, log: `steps/${step}/attempt-${attempt}.test-${index}.log`, tail: t.tail ?? [],
      });
    });
    this.events.push({
      type: "attempt-end", at: this.at(), step, attempt, passed: outcome.passed,
      reason: reason(outcome.reason ?? (outcome.passed ? "passed" : "tests_failed")),
      exitCode: outcome.exitCode === undefined ? 0 : outcome.exitCode, signal: null, durationMs: 2000,
      log: `steps/${step}/attempt-${attempt}.log`, tail: outcome.tail ?? [], usage: outcome.usage, detail: outcome.detail,
    });
    return this;
  }

  end(step: string, state: "passed" | "failed" | "blocked" | "skipped" | "cancelled", why: string, attempts: number, durationMs: number): this {
    this.events.push({ type: "step-end", at: this.at(), step, state, reason: reason(why), attempts, durationMs });
    return this;
  }

  finish(outcome: "passed" | "failed" | "cancelled", durationMs: number, sequentialMs: number): this {
    this.events.push({
      type: "run-end", at: this.at(), outcome, exitCode: outcome === "passed" ? 0 : outcome === "failed" ? 1 : 130,
      durationMs, sequentialMs,
    });
    return this;
  }
}
