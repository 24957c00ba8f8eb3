import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/engine/breaker.js";

function rig(threshold = 2, cooldown = 10) {
  let now = 0;
  const changes: string[] = [];
  const breaker = new CircuitBreaker("claude", { failureThreshold: threshold, cooldown, maxWait: 1800 }, () => now, (s) => changes.push(s));
  return { breaker, changes, advance: (s: number) => (now += s * 1000) };
}

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive tool failures, waits the cooldown, lets one trial through, closes on success", () => {
    const { breaker, changes, advance } = rig();
    breaker.record(true, false);
    expect(breaker.gate()).toEqual({ ok: true, trial: false });
    breaker.record(true, false);
    expect(changes).toEqual(["open"]);
    expect(breaker.gate()).toEqual({ ok: false, retryInMs: 10_000 });
    advance(10);
    expect(breaker.gate()).toEqual({ ok: true, trial: true });
    breaker.started(true);
    expect(breaker.gate().ok).toBe(false); // exactly one trial at a time
    breaker.record(false, true);
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  it("a failed trial opens it again; a success in between resets the count", () => {
    const { breaker, changes, advance } = rig();
    breaker.record(true, false);
    breaker.record(false, false);
    breaker.record(true, false);
    expect(changes).toEqual([]);
    breaker.record(true, false);
    advance(10);
    breaker.gate();
    breaker.started(true);
    breaker.record(true, true);
    expect(changes).toEqual(["open", "half-open", "open"]);
  });

  it("a quota answer opens it at once, below the threshold", () => {
    const { breaker, changes } = rig(5);
    breaker.record(true, false, {});
    expect(changes).toEqual(["open"]);
  });
});
