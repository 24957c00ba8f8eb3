import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ActivityPace } from "../../src/engine/activity-pace.js";
import { lastLogLine, OutputTail } from "../../src/engine/output-tail.js";
import { pastBudget, RunSpend } from "../../src/engine/run-spend.js";
import type { RunEvent } from "../../src/events/run-event.js";
import { ActivityQueue, StreamEstimate, oneLine, shownPath } from "../../src/tools/activity.js";
import { costOf, priceOf } from "../../src/tools/prices.js";
import type { Activity } from "../../src/tools/activity.js";

afterEach(() => vi.useRealTimers());

const edit = (n: number): Activity => ({ kind: "edit", text: `Edit f${n}` });

describe("ActivityPace", () => {
  it("lets a burst of 5 through, then one per half second with the latest waiting; flush sends the one left", () => {
    vi.useFakeTimers();
    let now = 0;
    const out: string[] = [];
    const pace = new ActivityPace((a) => out.push(a.text), () => now);
    for (let n = 1; n <= 20; n++) pace.offer(edit(n));
    expect(out).toEqual(["Edit f1", "Edit f2", "Edit f3", "Edit f4", "Edit f5"]);
    // f6..f20 coalesced into the latest: the next slot sends f20 only.
    now = 500;
    vi.advanceTimersByTime(500);
    expect(out.slice(5)).toEqual(["Edit f20"]);
    pace.offer(edit(21));
    pace.offer(edit(22));
    expect(out).toHaveLength(6);
    pace.flush();
    expect(out.at(-1)).toBe("Edit f22");
    // Nothing waits any more: no timer sends it twice.
    now = 5000;
    vi.advanceTimersByTime(5000);
    expect(out).toHaveLength(7);
  });

  it("a quiet agent's activities all go out at once, whatever their spacing", () => {
    let now = 0;
    const out: string[] = [];
    const pace = new ActivityPace((a) => out.push(a.text), () => now);
    for (let n = 1; n <= 30; n++) {
      now += 600;
      pace.offer(edit(n));
    }
    expect(out).toHaveLength(30);
  });
});

describe("budgets", () => {
  it("says how far over a limit went, by amount and share", () => {
    expect(pastBudget({ maxCostUsd: 0.1 }, { costUsd: 0.113 }, "the step's budget")).toBe("$0.1130 is over the step's budget of $0.1000 (by $0.0130, 13 %)");
    expect(pastBudget({ maxTokens: 5000 }, { inputTokens: 5000, outputTokens: 1000 }, "the step's budget")).toBe("6000 tokens is over the step's budget of 5000 tokens (by 1000 tokens, 20 %)");
    expect(pastBudget({ maxTokens: 5000 }, { inputTokens: 5000 }, "x")).toBeUndefined();
  });

  it("the run's spending is the ended attempts plus what the running ones streamed; an ended attempt's final figure replaces its streamed one", () => {
    const spend = new RunSpend({ maxTokens: 10_000 });
    spend.live("a", { inputTokens: 4000 });
    spend.live("b", { inputTokens: 4000 });
    expect(spend.pastBudget()).toBeUndefined();
    spend.live("b", { inputTokens: 7000 });
    expect(spend.pastBudget()).toContain("11000 tokens is over the workstream's budget of 10000 tokens");
    spend.settle("b", { inputTokens: 5000 });
    expect(spend.total()).toEqual({ inputTokens: 9000, costUsd: undefined, outputTokens: undefined, turns: undefined });
    expect(spend.spent).toEqual({ inputTokens: 5000 });
    expect(new RunSpend({}).pastBudget()).toBeUndefined();
  });

  it("the step that finds the run past its budget stops every other running attempt with the same reason", () => {
    const spend = new RunSpend({ maxTokens: 100 });
    const stopped: string[] = [];
    spend.watch("a", () => stopped.push("a"));
    const forgetB = spend.watch("b", (why) => stopped.push(`b: ${why}`));
    spend.watch("c", () => stopped.push("c"));
    forgetB();
    spend.live("a", { inputTokens: 150 });
    expect(spend.check("a")).toContain("150 tokens is over");
    expect(stopped).toEqual(["c"]);
  });
});

describe("prices", () => {
  it("finds a model by its longest prefix, ignoring a provider prefix; an unknown model has no cost", () => {
    expect(priceOf("claude-sonnet-4-5-20250929")?.input).toBe(3);
    expect(priceOf("gpt-5-mini")?.input).toBe(0.25);
    expect(priceOf("gpt-5-codex")?.input).toBe(1.25);
    expect(priceOf("models/gemini-2.5-flash-lite")?.output).toBe(0.4);
    expect(costOf("gpt-fake", { input: 1e6, output: 1e6 })).toBeUndefined();
    expect(costOf("claude-sonnet-4-5", { input: 1e6, cachedInput: 1e6, cacheWrite: 1e6, output: 1e6 })).toBeCloseTo(3 + 0.3 + 3.75 + 15, 9);
  });
});

describe("what the adapters share", () => {
  it("an activity is one trimmed line of at most 200 characters; a path inside the step's folder is shown relative", () => {
    expect(oneLine("  Edit a.ts\nmore")).toBe("Edit a.ts");
    expect(oneLine("x".repeat(300))).toHaveLength(200);
    expect(shownPath("/w/src/a.ts", "/w")).toBe("src/a.ts");
    expect(shownPath("/etc/passwd", "/w")).toBe("/etc/passwd");
    expect(shownPath("src/a.ts", "/w")).toBe("src/a.ts");
  });

  it("the queue hands over what came since the last take, bounded, and nothing costs no allocation", () => {
    const queue = new ActivityQueue();
    expect(queue.take()).toBeUndefined();
    for (let n = 0; n < 40; n++) queue.push("read", `Read f${n}`);
    queue.push("read", "   ");
    const taken = queue.take() ?? [];
    expect(taken).toHaveLength(16);
    expect(taken.at(-1)).toEqual({ kind: "read", text: "Read f39" });
    expect(queue.take()).toBeUndefined();
  });

  it("the stream estimate charges each model call the context so far", () => {
    const estimate = new StreamEstimate(4000);
    estimate.call(); // 4000 chars in
    estimate.wrote(400); // 100 tokens out
    estimate.read(2000);
    estimate.call(); // 6400 chars in
    expect([estimate.inputTokens, estimate.outputTokens, estimate.calls]).toEqual([(4000 + 6400) / 4, 100, 2]);
  });
});

describe("a shell step's last line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-tail-"));
  const log = path.join(dir, "attempt-1.log");

  it("is the last complete output line of the log, without ws's prefix and notes, a line being written left out", () => {
    fs.writeFileSync(log, "# $ make (cwd: /w)\n12:00:00.000 out| compiling a\n12:00:00.100 err| warning: b\n12:00:00.200 out| half a li");
    expect(lastLogLine(log)).toBe("warning: b");
    fs.appendFileSync(log, "ne\n# exit 0\n");
    expect(lastLogLine(log)).toBe("half a line");
    expect(lastLogLine(path.join(dir, "missing"))).toBeUndefined();
    // A long log: only its end is read, and a line cut at the front is not taken.
    fs.writeFileSync(log, Array.from({ length: 2000 }, (_, i) => `12:00:00.000 out| line ${i}`).join("\n") + "\n");
    expect(lastLogLine(log)).toBe("line 1999");
  });

  it("is emitted for a running shell attempt only when it changed, never for an agent's or after the attempt", () => {
    const events: RunEvent[] = [];
    const tail = new OutputTail(() => log, (e) => events.push(e), () => "2026-12-06T00:00:00.000Z");
    const at = "2026-12-06T00:00:00.000Z";
    tail.observe({ type: "step-start", at, step: "sh", attempt: 1, tool: "shell" });
    tail.observe({ type: "step-start", at, step: "agent", attempt: 1, tool: "claude" });
    fs.writeFileSync(log, "12:00:00.000 out| step 1\n");
    tail.poll();
    tail.poll();
    fs.appendFileSync(log, "12:00:00.000 out| step 2\n");
    tail.poll();
    tail.observe({ type: "attempt-end", at, step: "sh", attempt: 1, passed: true, reason: { kind: "passed" }, exitCode: 0, signal: null, durationMs: 1, log: "x", tail: [] });
    fs.appendFileSync(log, "12:00:00.000 out| step 3\n");
    tail.poll();
    expect(events.map((e) => (e.type === "activity" ? `${e.step} ${e.kind} ${e.text}` : e.type))).toEqual(["sh output step 1", "sh output step 2"]);
  });
});
