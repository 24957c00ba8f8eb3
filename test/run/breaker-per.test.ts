import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readState, ws } from "./rig.js";

afterEach(cleanup);

/** Two steps of one custom tool: a's attempts fail (the tool exits 1), b's pass. One failure opens a breaker for 2 s. */
function project(per?: "tool" | "step") {
  return makeProject([
    {
      id: "cb",
      execution: { isolation: "none", max_workers: 1 },
      circuit_breaker: { failure_threshold: 1, cooldown: 2, ...(per ? { per } : {}) },
      tools: { flake: { command: "sh", args: ["-c", 'test -z "$FAIL"', "{prompt_file}"] } },
      steps: [
        { id: "a", tool: "flake", tasks: ["a"], file_scope: ["a.txt"], retries: 1, env: { FAIL: "1" } },
        { id: "b", tool: "flake", tasks: ["b"], file_scope: ["b.txt"] },
      ],
    },
  ]);
}

describe("ws run: circuit_breaker.per (issue 34.8)", () => {
  it('per "tool" (the default): a\'s failure opens the tool\'s breaker and b waits out its cooldown', () => {
    const p = project();
    expect(ws(p, ["run", "cb"]).code).toBe(1);
    const events = readEvents(p, "cb");
    const open = events.find((e) => e.type === "breaker" && e.state === "open");
    expect(open).toMatchObject({ tool: "flake" });
    expect(open?.step).toBeUndefined();
    const bStart = events.find((e) => e.type === "step-start" && e.step === "b");
    expect(Date.parse(bStart!.at) - Date.parse(open!.at)).toBeGreaterThanOrEqual(2000);
  });

  it('per "step": a\'s failures open a\'s own breaker (its retry waits the cooldown); b runs meanwhile on the only worker', () => {
    const p = project("step");
    const r = ws(p, ["run", "cb"]);
    expect(r.code).toBe(1);
    const events = readEvents(p, "cb");
    const breakers = events.filter((e) => e.type === "breaker");
    expect(breakers.every((e) => e.step === "a")).toBe(true);
    const open = breakers.find((e) => e.state === "open")!;
    const halfOpen = breakers.find((e) => e.state === "half-open")!;
    const bStart = events.findIndex((e) => e.type === "step-start" && e.step === "b");
    expect(bStart).toBeGreaterThan(events.indexOf(open));
    expect(bStart).toBeLessThan(events.indexOf(halfOpen));
    const aRetry = events.find((e) => e.type === "step-start" && e.step === "a" && e.attempt === 2);
    expect(Date.parse(aRetry!.at) - Date.parse(open.at)).toBeGreaterThanOrEqual(2000);
    expect(readState(p, "cb").steps.b).toMatchObject({ state: "passed" });
    expect(r.stdout).toContain("breaker flake of a: open after 1 tool failure");
  });

  it('per "step" gives shell steps a breaker too: a failing one cools down before its retry', () => {
    const p = makeProject([
      {
        id: "sh",
        execution: { isolation: "none" },
        circuit_breaker: { failure_threshold: 1, cooldown: 1, per: "step" },
        steps: [{ id: "s", run: "test -e done || { touch done; exit 1; }", retries: 1 }],
      },
    ]);
    expect(ws(p, ["run", "sh"]).code).toBe(0);
    const events = readEvents(p, "sh");
    const open = events.find((e) => e.type === "breaker" && e.state === "open");
    expect(open).toMatchObject({ tool: "shell", step: "s" });
    const retry = events.find((e) => e.type === "step-start" && e.attempt === 2);
    expect(Date.parse(retry!.at) - Date.parse(open!.at)).toBeGreaterThanOrEqual(1000);
  });

  it("ws validate rejects another value", () => {
    const p = makeProject([{ id: "bad", circuit_breaker: { per: "run" }, steps: [{ id: "a", run: "true" }] }]);
    const v = ws(p, ["validate", "bad"]);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/circuit_breaker\.per/);
  });
});
