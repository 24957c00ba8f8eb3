import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../src/engine/retry-decision.js";
import { schedule, type UnitResult } from "../../src/engine/scheduler.js";
import { applyEvent, foldEvents } from "../../src/store/run-state.js";
import { buildTimeline } from "../../src/report/timeline.js";
import type { RunEvent } from "../../src/events/run-event.js";
import { workstreamOf } from "../helpers/workstream.js";
import { VirtualClock } from "./virtual-clock.js";

/** retry_delay, retry_backoff and retry_delay_max (issue 34.5): the delay, the scheduler's hold, the fold and the timeline. */

describe("retryDelayMs", () => {
  it.each([
    [{ retryDelay: 0, retryBackoff: 2 }, [0, 0, 0]],
    [{ retryDelay: 1, retryBackoff: 1 }, [1000, 1000, 1000]],
    [{ retryDelay: 1, retryBackoff: 2 }, [1000, 2000, 4000]],
    [{ retryDelay: 0.5, retryBackoff: 3, retryDelayMax: 2 }, [500, 1500, 2000]],
  ])("%o waits %o before retries 1, 2, 3", (step, expected) => {
    expect([1, 2, 3].map((retry) => retryDelayMs(step, retry))).toEqual(expected);
  });

  it("comes from the step, else from defaults", () => {
    const ws = workstreamOf({ defaults: { retry_delay: 2, retry_backoff: 1.5, retry_delay_max: 10 }, steps: [{ id: "a" }, { id: "b", retry_delay: 1, retry_backoff: 2 }] });
    expect(ws.steps[0]).toMatchObject({ retryDelay: 2, retryBackoff: 1.5, retryDelayMax: 10 });
    expect(ws.steps[1]).toMatchObject({ retryDelay: 1, retryBackoff: 2, retryDelayMax: 10 });
    expect(workstreamOf({ steps: [{ id: "a" }] }).steps[0]).toMatchObject({ retryDelay: 0, retryBackoff: 1, retryDelayMax: undefined });
  });
});

describe("scheduler: a retry's delay holds no worker", () => {
  it("another node runs in the delay; the retry starts no earlier than its delay after the failure, and is reported as a retry wait", async () => {
    const clock = new VirtualClock();
    const starts: Array<[number, number]> = [];
    const ends: Array<[number, number]> = [];
    const waits: Array<[number, string, number | undefined]> = [];
    let tries = 0;
    const finals = await clock.drive(
      schedule({
        ids: ["flaky", "other"],
        deps: [[], []],
        selected: new Set([0, 1]),
        maxWorkers: 1,
        rateLimitMs: 0,
        onFailure: "continue",
        clock,
        onWait: (node, wait, until) => waits.push([node, wait, until]),
        run: async (node): Promise<UnitResult> => {
          starts.push([node, clock.now()]);
          await clock.sleep(node === 0 ? 10 : 300);
          ends.push([node, clock.now()]);
          if (node === 1) return { final: true, state: "passed", reason: { kind: "passed" } };
          tries += 1;
          return tries < 3 ? { final: false, delayMs: 1000 * 2 ** (tries - 1) } : { final: true, state: "passed", reason: { kind: "passed" } };
        },
      }),
    );
    expect(finals.get(0)?.state).toBe("passed");
    const flakyStarts = starts.filter(([n]) => n === 0).map(([, t]) => t);
    const flakyEnds = ends.filter(([n]) => n === 0).map(([, t]) => t);
    expect(flakyStarts[1]! - flakyEnds[0]!).toBeGreaterThanOrEqual(1000);
    expect(flakyStarts[2]! - flakyEnds[1]!).toBeGreaterThanOrEqual(2000);
    // One worker: "other" could only run because the delay left it free.
    const otherStart = starts.find(([n]) => n === 1)![1];
    expect(otherStart).toBeGreaterThanOrEqual(flakyEnds[0]!);
    expect(otherStart).toBeLessThan(flakyStarts[1]!);
    expect(waits.filter(([n, w]) => n === 0 && w === "retry").map(([, , until]) => until)).toEqual([flakyEnds[0]! + 1000, flakyEnds[1]! + 2000]);
  });

  it("a delay carried over from an interrupted run (notBefore) holds the node until then", async () => {
    const clock = new VirtualClock();
    const starts: number[] = [];
    await clock.drive(
      schedule({
        ids: ["a"],
        deps: [[]],
        selected: new Set([0]),
        maxWorkers: 1,
        rateLimitMs: 0,
        onFailure: "continue",
        clock,
        notBefore: new Map([[0, clock.now() + 5000]]),
        run: async (): Promise<UnitResult> => {
          starts.push(clock.now());
          return { final: true, state: "passed", reason: { kind: "passed" } };
        },
      }),
    );
    expect(starts[0]).toBeGreaterThanOrEqual(5000);
  });
});

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const runStart = (resume: boolean): RunEvent => ({ type: "run-start", at: at(0), runId: "r", wsId: "w", file: "/w.json", hash: "0", steps: ["a"], selected: ["a"], maxWorkers: 1, pid: 1, resume, workdir: "/tmp" });
const failedAttempt: RunEvent[] = [
  { type: "step-start", at: at(0), step: "a", attempt: 1, tool: "shell" },
  { type: "attempt-end", at: at(10), step: "a", attempt: 1, passed: false, reason: { kind: "exit", code: 1 }, exitCode: 1, signal: null, durationMs: 10, log: "l", tail: [] },
  { type: "step-wait", at: at(10), step: "a", wait: "retry", until: at(1010) },
];

describe("a retry's delay in the state and the timeline", () => {
  it("status shows it; a Ctrl-C in it keeps it for --resume, and the next attempt's start clears it", () => {
    const live = foldEvents([runStart(false), ...failedAttempt]);
    expect(live?.steps.a?.waiting).toEqual({ reason: "retry", until: at(1010) });
    const cut = foldEvents([runStart(false), ...failedAttempt, { type: "step-end", at: at(20), step: "a", state: "cancelled", reason: { kind: "cancelled" }, attempts: 1, durationMs: 10 }]);
    const resumed = applyEvent(structuredClone(cut), runStart(true));
    expect(resumed?.steps.a).toMatchObject({ state: "pending", attempts: 1, waiting: { reason: "retry", until: at(1010) } });
    const going = applyEvent(resumed, { type: "step-start", at: at(1010), step: "a", attempt: 2, tool: "shell" });
    expect(going?.steps.a?.waiting).toBeUndefined();
  });

  it("the timeline draws it as its own segment, wait-retry, before the attempt it precedes", () => {
    const t = buildTimeline({
      events: [
        runStart(false),
        ...failedAttempt,
        { type: "step-start", at: at(1010), step: "a", attempt: 2, tool: "shell" },
        { type: "attempt-end", at: at(1020), step: "a", attempt: 2, passed: true, reason: { kind: "passed" }, exitCode: 0, signal: null, durationMs: 10, log: "l", tail: [] },
        { type: "step-end", at: at(1030), step: "a", state: "passed", reason: { kind: "passed" }, attempts: 2, durationMs: 20 },
        { type: "run-end", at: at(1040), outcome: "passed", exitCode: 0, durationMs: 1040, sequentialMs: 20 },
      ],
    });
    const wait = t.rows[0]!.segments.find((s) => s.kind === "wait-retry");
    expect(wait).toMatchObject({ start: 10, end: 1010, attempt: 2, label: "waiting to retry (retry_delay)" });
  });
});
