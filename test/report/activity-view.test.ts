import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { ActivityThrottle, EVERY_MS, throttledLine } from "../../src/report/activity-throttle.js";
import { LiveSteps, QUIET_AFTER_MS, budgetShare, fitText, liveLines, liveStepLine, runSpendText } from "../../src/report/live-steps.js";
import { RunReporter } from "../../src/cli/run-reporter.js";
import type { CliContext } from "../../src/cli/context.js";
import type { ActivityKind, EventOf, RunEvent } from "../../src/events/run-event.js";

/**
 * The view side of activity (issue 30): which activities a pipe prints (a bound per step, on a
 * clock the test drives: minutes of a run in no time), and the live view's line per step.
 */

const t0 = Date.parse("2026-12-06T12:00:00.000Z");
const at = (ms: number) => new Date(t0 + ms).toISOString();
const activity = (step: string, ms: number, kind: ActivityKind, text: string, usage?: EventOf<"activity">["usage"]): EventOf<"activity"> => ({ type: "activity", at: at(ms), step, attempt: 1, kind, text, usage });
const runStart = (extra: Partial<EventOf<"run-start">> = {}): EventOf<"run-start"> => ({
  type: "run-start", at: at(0), runId: "r", wsId: "w", file: "f", hash: "h", steps: ["a", "b", "c"], selected: ["a", "b", "c"], maxWorkers: 3, pid: 1, resume: false, workdir: "/w", ...extra,
});

/** Three agents, each reporting an activity every 150 ms for two minutes: edits of 40 files over and over, commands, messages. */
function chattyRun(): RunEvent[] {
  const events: RunEvent[] = [];
  const kinds: ActivityKind[] = ["edit", "read", "command", "message", "tool", "edit"];
  for (let ms = 0, n = 0; ms < 120_000; ms += 150, n++) {
    for (const step of ["a", "b", "c"]) {
      const kind = kinds[n % kinds.length]!;
      events.push(activity(step, ms, kind, kind === "command" ? `Bash: npm test -- ${n % 7}` : kind === "message" ? `thinking ${n}` : `Edit src/f${n % 40}.ts`));
    }
  }
  return events;
}

describe("the activity throttle of pipes and CI logs", () => {
  it("prints at most one line per step per 10 s however chatty three agents are for two minutes, and some for each", () => {
    const throttle = new ActivityThrottle();
    const printed: Array<{ step: string; at: number }> = [];
    const events = chattyRun();
    for (const event of events) {
      if (event.type !== "activity") continue;
      const now = Date.parse(event.at);
      const line = throttle.offer(event, now);
      if (line) printed.push({ step: line.event.step, at: now });
      // The reporter's one-second tick.
      if ((now - t0) % 1000 === 0) for (const due of throttle.due(now)) printed.push({ step: due.event.step, at: now });
    }
    expect(events.length).toBeGreaterThan(2000);
    for (const step of ["a", "b", "c"]) {
      const times = printed.filter((p) => p.step === step).map((p) => p.at);
      expect(times.length).toBeGreaterThan(3);
      expect(times.length).toBeLessThanOrEqual(120_000 / EVERY_MS + 1);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(EVERY_MS);
    }
  });

  it("prints news at once, holds what comes sooner (an edit over a read) for when the window opens, and counts what the line stands for", () => {
    const throttle = new ActivityThrottle();
    expect(throttle.offer(activity("a", 0, "edit", "Edit src/x.ts"), t0)?.event.text).toBe("Edit src/x.ts");
    expect(throttle.offer(activity("a", 1000, "edit", "Edit src/y.ts"), t0 + 1000)).toBeUndefined();
    expect(throttle.offer(activity("a", 2000, "read", "Read src/z.ts"), t0 + 2000)).toBeUndefined();
    expect(throttle.due(t0 + 9_999)).toEqual([]);
    const due = throttle.due(t0 + 10_000);
    expect(due.map((d) => [d.event.text, d.count])).toEqual([["Edit src/y.ts", 2]]);
    expect(throttle.due(t0 + 30_000)).toEqual([]);
    expect(throttledLine(due[0]!)).toBe("activity a: Edit src/y.ts (and 1 more)");
    expect(throttledLine({ event: activity("b", 0, "output", "\u001b[1mbold\u001b[0m\rdone"), count: 1 })).toBe("activity b: bold done");
  });

  it("is not news: a file the step already touched, the same command again, messages and other tool calls", () => {
    const throttle = new ActivityThrottle();
    expect(throttle.offer(activity("a", 0, "edit", "Edit src/x.ts"), t0)).toBeDefined();
    expect(throttle.offer(activity("a", 20_000, "edit", "Edit src/x.ts"), t0 + 20_000)).toBeUndefined();
    expect(throttle.offer(activity("a", 20_000, "message", "Let me look"), t0 + 20_000)).toBeUndefined();
    expect(throttle.offer(activity("a", 20_000, "tool", "TodoWrite"), t0 + 20_000)).toBeUndefined();
    expect(throttle.offer(activity("a", 20_000, "command", "Bash: npm test"), t0 + 20_000)).toBeDefined();
    expect(throttle.offer(activity("a", 40_000, "command", "Bash: npm test"), t0 + 40_000)).toBeUndefined();
    // Another step has its own window and its own files.
    expect(throttle.offer(activity("b", 40_000, "edit", "Edit src/x.ts"), t0 + 40_000)).toBeDefined();
    // A step that ended and runs again (a resume) starts afresh.
    throttle.end("a");
    expect(throttle.offer(activity("a", 41_000, "edit", "Edit src/x.ts"), t0 + 41_000)).toBeDefined();
  });
});

describe("plain output of a chatty run (the reporter, on the events' own clock)", () => {
  it("prints a bounded number of activity lines for a 2-minute 3-agent run, where orchestrator.log would have had thousands", () => {
    const lines: string[] = [];
    const ctx = { quiet: false, stdout: { write: (s: string) => lines.push(...s.split("\n").filter(Boolean)) } } as unknown as CliContext;
    const reporter = new RunReporter(ctx, "plain", new Chalk({ level: 0 }));
    reporter.onEvent(runStart());
    for (const step of ["a", "b", "c"]) reporter.onEvent({ type: "step-start", at: at(0), step, attempt: 1, tool: "claude" });
    for (const event of chattyRun()) {
      reporter.onEvent(event);
      const ms = Date.parse(event.at) - t0;
      if (ms % 1000 === 0) reporter.quietTick(t0 + ms);
    }
    reporter.close();
    const activityLines = lines.filter((l) => / activity [abc]: /.test(l));
    expect(activityLines.length).toBeGreaterThanOrEqual(9);
    expect(activityLines.length).toBeLessThanOrEqual(3 * (120_000 / EVERY_MS + 1));
    expect(activityLines[0]).toMatch(/^12:00:00\.000 activity a: Edit src\/f0\.ts$/);
    expect(activityLines.some((l) => / \(and \d+ more\)$/.test(l))).toBe(true);
  });
});

describe("the live view's line per running step", () => {
  const view = () => {
    const v = new LiveSteps();
    v.observe(runStart({ budget: { maxCostUsd: 2 }, budgets: { a: { maxTokens: 10_000 } } }));
    v.observe({ type: "step-start", at: at(0), step: "a", attempt: 1, tool: "claude" });
    v.observe({ type: "step-start", at: at(1000), step: "b", attempt: 1, tool: "claude" });
    return v;
  };

  it("shows the id, elapsed time, activity, spend and the share of the step's budget, or of the run's", () => {
    const v = view();
    v.observe(activity("a", 70_000, "edit", "Edit src/api.ts", { inputTokens: 3000, outputTokens: 1200, costUsd: 0.0421 }));
    v.observe({ ...activity("b", 5000, "command", "Bash: npm test", { costUsd: 0.5 }), step: "b" });
    const [a, b] = liveLines(v, t0 + 72_000, 100, 10);
    expect(a).toBe("a 1m12s · Edit src/api.ts · $0.0421 4,200 tok (42% of its budget)");
    expect(b).toBe("b 1m11s · Bash: npm test · $0.5000 (25% of the run's budget) · quiet for 1m07s");
  });

  it("says quiet once nothing came for a while, but not of a shell command, which reports nothing", () => {
    const v = view();
    v.observe({ type: "step-start", at: at(0), step: "c", attempt: 1, tool: "shell" });
    const lines = liveLines(v, t0 + QUIET_AFTER_MS + 1000, 100, 10);
    expect(lines).toEqual(["a 31s · quiet for 31s", "b 30s · quiet for 30s", "c 31s"]);
    expect(liveLines(v, t0 + QUIET_AFTER_MS - 2000, 100, 10)[0]).toBe("a 28s");
  });

  it("fits the activity to the width, cutting a file's path in its middle so the verb and the name stay", () => {
    const v = view();
    v.observe(activity("a", 1000, "edit", "Edit src/some/very/deep/folder/of/the/project/component.tsx"));
    const line = liveStepLine(v.running()[0]!, v, t0 + 2000, 40);
    expect([...line].length).toBeLessThanOrEqual(40);
    expect(line).toMatch(/^a 2s · Edit …\S+component\.tsx$/);
    v.observe(activity("a", 1000, "message", "I will now read the whole test suite and then fix every failing test"));
    const cut = liveStepLine(v.running()[0]!, v, t0 + 2000, 40);
    expect(cut).toMatch(/^a 2s · I will now read.*…$/);
    expect([...cut].length).toBe(40);
    // Narrower than the id, time and spend: the activity goes, then the line is cut.
    expect([...liveStepLine(v.running()[0]!, v, t0 + 2000, 8)].length).toBeLessThanOrEqual(8);
    expect(fitText("Edit src/x.ts", 100, true)).toBe("Edit src/x.ts");
  });

  it("keeps a tool's escape sequences and control characters out of the view", () => {
    const v = view();
    v.observe(activity("a", 1000, "output", "\u001b[31mred\u001b[0m\tand\rcarriage\u001b[2K"));
    expect(liveStepLine(v.running()[0]!, v, t0 + 2000, 80)).toBe("a 2s · red and carriage");
  });

  it("counts a step's earlier attempts against its budget, and the run's total over every step", () => {
    const v = view();
    v.observe(activity("a", 1000, "edit", "Edit x", { inputTokens: 4000 }));
    v.observe({ type: "attempt-end", at: at(2000), step: "a", attempt: 1, passed: false, reason: { kind: "exit", code: 1 }, exitCode: 1, signal: null, durationMs: 2000, log: "l", tail: [], usage: { inputTokens: 5000, costUsd: 1 } });
    expect(v.running().map((s) => s.id)).toEqual(["b"]);
    v.observe({ type: "step-start", at: at(3000), step: "a", attempt: 2, tool: "claude" });
    v.observe({ ...activity("a", 4000, "command", "Bash: make", { inputTokens: 1000 }), attempt: 2 });
    v.observe(activity("a", 4000, "edit", "the first attempt's late line"));
    const a = liveLines(v, t0 + 5000, 100, 10)[1];
    expect(a).toBe("a attempt 2, 2s · Bash: make · $1.00 6,000 tok (60% of its budget)");
    expect(v.runUsage()).toMatchObject({ inputTokens: 6000, costUsd: 1 });
    expect(runSpendText(v)).toBe("spent $1.00 6,000 tok (50% of the run's budget)");
    expect(runSpendText(view())).toBe("");
    expect(budgetShare({ maxTurns: 4, maxCostUsd: 10 }, { turns: 3, costUsd: 1 })).toBe(0.75);
    expect(budgetShare(undefined, { turns: 3 })).toBeUndefined();
  });

  it("lists as many steps as the terminal has rows for, and counts the rest", () => {
    const v = new LiveSteps();
    v.observe(runStart());
    for (const id of ["s1", "s2", "s3", "s4", "s5"]) v.observe({ type: "step-start", at: at(0), step: id, attempt: 1, tool: "shell" });
    expect(liveLines(v, t0 + 1000, 80, 3)).toEqual(["s1 1s", "s2 1s", "+3 more running: s3, s4, s5"]);
  });
});
