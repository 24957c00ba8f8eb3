import { describe, expect, it } from "vitest";
import { because } from "../../src/events/end-reason.js";
import type { RunEvent } from "../../src/events/run-event.js";
import { ToolGate } from "../../src/engine/tool-gate.js";
import type { AttemptResult } from "../../src/engine/step-runner.js";
import type { Workstream } from "../../src/workstream/model.js";
import { makeStep, makeWorkstream } from "../tools/helpers.js";
import { VirtualClock } from "./virtual-clock.js";

function setup(breaker: Partial<Workstream["circuitBreaker"]> = {}) {
  const steps = [makeStep({ id: "a", tool: "codex" }), makeStep({ id: "b", tool: "codex" }), makeStep({ id: "c", tool: "claude" })];
  const base = makeWorkstream(steps);
  const ws: Workstream = { ...base, circuitBreaker: { ...base.circuitBreaker, ...breaker } };
  const events: RunEvent[] = [];
  const clock = new VirtualClock();
  const gate = new ToolGate(ws, {}, clock, (e) => events.push(e));
  const [a, b, c] = ws.steps as [Workstream["steps"][number], Workstream["steps"][number], Workstream["steps"][number]];
  return { gate, events, a, b, c };
}

const offline = (extra: Partial<AttemptResult> = {}): AttemptResult => ({
  final: true,
  state: "failed",
  reason: because("network"),
  toolFault: true,
  tool: "codex",
  network: { message: "could not reach 127.0.0.1:9: codex was retrying", host: "127.0.0.1:9" },
  ...extra,
});

describe("ToolGate: a tool that cannot reach its API", () => {
  it("without network_wait, is unusable for the run: its other steps are refused (network) with the host and --resume, said once", () => {
    const { gate, events, a, b, c } = setup();
    expect(gate.admit(a)).toMatchObject({ kind: "run", tool: "codex" });
    gate.started("codex", a, false);
    gate.record(offline(), a, false, undefined);
    // A second step of the tool that was already running when the first found out: no second message.
    gate.record(offline(), b, false, undefined);
    expect(gate.admit(b)).toEqual({
      kind: "refuse",
      state: "blocked",
      reason: because("network"),
      detail: "not attempted: codex could not reach 127.0.0.1:9 (step a); when 127.0.0.1:9 can be reached again, continue with: ws run --ws-id ws-test --resume (or set circuit_breaker.network_wait to wait for it)",
    });
    expect(gate.admit(c)).toMatchObject({ kind: "run", tool: "claude" });
    expect(events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message)).toEqual([
      "codex could not reach 127.0.0.1:9: no step uses codex for the rest of this run; when 127.0.0.1:9 can be reached again, continue with: ws run --ws-id ws-test --resume (or set circuit_breaker.network_wait to wait for it)",
    ]);
  });

  it("with network_wait, is parked until then (one probe after it); parked past max_wait, a step left behind says network", () => {
    const { gate, events, b } = setup({ networkWait: 60, maxWait: 10 });
    gate.record(offline({ final: false, network: undefined, quota: { until: 60_000, network: true } }), b, false, undefined);
    expect(gate.admit(b)).toEqual({ kind: "wait", retryInMs: Infinity });
    expect(gate.whyNotStarted(b)).toEqual({
      reason: because("network"),
      detail: expect.stringMatching(/^waiting \(network, until \d\d:\d\d\): codex could not reach its API and is parked past circuit_breaker\.max_wait \(10 s\); once it can, continue with: ws run --ws-id ws-test --resume$/) as string,
    });
    expect(events.some((e) => e.type === "warning")).toBe(false);
  });
});
