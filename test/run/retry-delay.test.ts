import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readState, waitFor, ws, wsAsync, type EventLine } from "./rig.js";

afterEach(cleanup);

/** Fails until its third attempt: a counter file in the project (isolation none: it runs in place). */
const FLAKY = 'n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; test $n -ge 3';
const t = (e: EventLine | undefined) => Date.parse(e!.at);
const attemptEvent = (events: EventLine[], type: string, step: string, attempt: number) => events.find((e) => e.type === type && e.step === step && e.attempt === attempt);

describe("ws run: retry_delay and retry_backoff (issue 34.5)", () => {
  it("a flaky step with retry_delay 1, retry_backoff 2 starts attempts 2 and 3 at least 1 s and 2 s after the previous one ended; another step runs meanwhile on the only worker", () => {
    const p = makeProject([
      {
        id: "flaky",
        execution: { isolation: "none", max_workers: 1 },
        steps: [
          { id: "flaky", run: FLAKY, retries: 2, retry_delay: 1, retry_backoff: 2 },
          { id: "other", run: "sleep 0.3" },
        ],
      },
    ]);
    const r = ws(p, ["run", "flaky"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = readEvents(p, "flaky");
    const end1 = attemptEvent(events, "attempt-end", "flaky", 1);
    const start2 = attemptEvent(events, "step-start", "flaky", 2);
    const end2 = attemptEvent(events, "attempt-end", "flaky", 2);
    const start3 = attemptEvent(events, "step-start", "flaky", 3);
    expect(t(start2) - t(end1)).toBeGreaterThanOrEqual(1000);
    expect(t(start3) - t(end2)).toBeGreaterThanOrEqual(2000);
    // One worker, and "other" ran between attempts 1 and 2: the delay held none.
    const other = events.findIndex((e) => e.type === "step-start" && e.step === "other");
    expect(other).toBeGreaterThan(events.indexOf(end1!));
    expect(other).toBeLessThan(events.indexOf(start2!));
    expect(events.filter((e) => e.type === "step-wait" && e.step === "flaky" && e.wait === "retry")).toHaveLength(2);
    expect(r.stdout).toMatch(/retry {2}flaky in 1s \(retry_delay\)/);
    expect(r.stdout).toMatch(/retry {2}flaky in 2s \(retry_delay\)/);
    expect(readState(p, "flaky").steps.flaky).toMatchObject({ state: "passed", attempts: 3 });
  });

  it("ws status shows the wait; a Ctrl-C in it, then --resume: the retry still waits out its delay", async () => {
    const p = makeProject([
      { id: "later", execution: { isolation: "none" }, defaults: { retry_delay: 3 }, steps: [{ id: "flaky", run: FLAKY, retries: 3 }] },
    ]);
    const run = wsAsync(p, ["run", "later"]);
    const wait = await waitFor("the retry's wait", () => {
      try {
        return readEvents(p, "later").find((e) => e.type === "step-wait" && e.wait === "retry");
      } catch {
        return undefined;
      }
    });
    const status = ws(p, ["status", "later"]);
    expect(status.stdout).toMatch(/flaky .*waiting to retry \(retry_delay, until \d\d:\d\d:\d\d\)/);
    process.kill(run.pid, "SIGINT");
    expect((await run.done).code).toBe(130);
    const resumed = ws(p, ["run", "later", "--resume"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const events = readEvents(p, "later");
    const start2 = attemptEvent(events, "step-start", "flaky", 2);
    expect(t(start2)).toBeGreaterThanOrEqual(Date.parse(wait.until as string));
    // The resumed run says what it waits for before the attempt.
    const lastRun = events.slice(events.findLastIndex((e) => e.type === "run-start"));
    expect(lastRun.findIndex((e) => e.type === "step-wait" && e.wait === "retry")).toBeLessThan(lastRun.indexOf(start2!));
    expect(readState(p, "later").steps.flaky).toMatchObject({ state: "passed" });
  });
});
