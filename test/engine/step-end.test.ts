import { describe, expect, it } from "vitest";
import { because } from "../../src/events/end-reason.js";
import { stepEndEvent } from "../../src/engine/step-end.js";

const at = "2026-01-01T00:00:00.000Z";

describe("stepEndEvent", () => {
  it("gives a step decided without running 0 attempts and 0 ms", () => {
    expect(JSON.parse(JSON.stringify(stepEndEvent(at, { step: "a", state: "skipped", reason: because("skipped") })))).toEqual({
      type: "step-end",
      at,
      step: "a",
      state: "skipped",
      reason: { kind: "skipped" },
      attempts: 0,
      durationMs: 0,
    });
  });

  it("leaves out an interrupted count of 0 and empty outputs", () => {
    const event = stepEndEvent(at, { step: "a", state: "passed", reason: because("passed"), attempts: 2, interrupted: 0, durationMs: 5, outputs: {} });
    expect(event.interrupted).toBeUndefined();
    expect(event.outputs).toBeUndefined();
    expect(event.attempts).toBe(2);
  });

  it("records outputs only for a passed step", () => {
    const outputs = { version: "1.2.3" };
    expect(stepEndEvent(at, { step: "a", state: "passed", reason: because("passed"), outputs }).outputs).toEqual(outputs);
    expect(stepEndEvent(at, { step: "a", state: "failed", reason: because("tests_failed"), outputs, interrupted: 1 })).toMatchObject({ outputs: undefined, interrupted: 1 });
  });
});
