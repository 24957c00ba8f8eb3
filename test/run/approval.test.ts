import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, rec, readEvents, readRecord, readState, recStep, waitFor, ws, wsAsync, type Project } from "./rig.js";

afterEach(cleanup);

/** build → deploy (gated) → smoke; `extra` goes into deploy's approval. */
function pipeline(approval: object = { prompt: "Deploy to production?" }) {
  return {
    id: "gate",
    steps: [recStep("build", [], { compensate: rec("undo-build") }), recStep("deploy", [], { depends_on: ["build"], approval }), recStep("smoke", [], { depends_on: ["deploy"] })],
  };
}

const started = (p: Project) => readRecord(p).filter((l) => l.event === "start").map((l) => l.id);

/** Waits until `ws status` shows the gate waiting, and returns what it printed. */
async function waitingStatus(p: Project): Promise<string> {
  return waitFor("the gate to wait", () => {
    const status = ws(p, ["status", "gate"]);
    return status.stdout.includes("waiting for approval since") ? status.stdout : undefined;
  });
}

describe("ws run: approval gates", () => {
  it("waits at the gate without starting the step, shows it in ws status, and goes on after ws approve from another terminal", async () => {
    const p = makeProject([pipeline()]);
    const run = wsAsync(p, ["run", "gate"]);
    const status = await waitingStatus(p);
    expect(status).toMatch(/deploy +│ ⏸ waiting for approval since \d\d:\d\d/);
    expect(started(p)).toEqual(["build"]);
    const approve = ws(p, ["approve", "gate", "--step", "deploy"]);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain("approved deploy of run");
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(started(p)).toEqual(["build", "deploy", "smoke"]);
    const end = readEvents(p, "gate").find((e) => e.type === "approval-end");
    expect(end).toMatchObject({ step: "deploy", approved: true, via: "command" });
    expect(typeof end?.by).toBe("string");
    expect(r.stdout).toContain("waiting deploy for approval: Deploy to production?");
    expect(r.stdout).toContain("decide with: ws approve gate --step deploy");
  });

  it('on_reject "fail": a rejection fails the step with reason rejected and who said why; its dependents are blocked, the run fails and compensates', async () => {
    const p = makeProject([pipeline({ prompt: "Deploy to production?", on_reject: "fail" })]);
    const run = wsAsync(p, ["run", "gate"]);
    await waitingStatus(p);
    expect(ws(p, ["reject", "gate", "--step", "deploy", "--reason", "freeze until Monday"]).code).toBe(0);
    const r = await run.done;
    expect(r.code).toBe(1);
    const { steps } = readState(p, "gate");
    expect(steps.deploy).toMatchObject({ state: "failed", reason: "rejected", attempts: 0 });
    expect((steps.deploy as { detail?: string }).detail).toMatch(/^by .+: freeze until Monday$/);
    expect(steps.smoke).toMatchObject({ state: "blocked", reason: "blocked_by:deploy" });
    expect(started(p)).toEqual(["build", "undo-build"]);
    const json = JSON.parse(ws(p, ["status", "gate", "--json"]).stdout) as { steps: Record<string, { approval?: { approved: boolean; reason?: string; via: string } }> };
    expect(json.steps.deploy?.approval).toMatchObject({ approved: false, reason: "freeze until Monday", via: "command" });
  });

  it('a gate timeout rejects (on_reject "fail")', () => {
    const p = makeProject([pipeline({ prompt: "Ship it?", timeout: 1, on_reject: "fail" })]);
    const r = ws(p, ["run", "gate"]);
    expect(r.code).toBe(1);
    expect(readState(p, "gate").steps.deploy).toMatchObject({ state: "failed", reason: "rejected" });
    expect(r.stdout).toContain("rejected deploy: nobody decided within 1s (approval.timeout)");
    expect(readEvents(p, "gate").find((e) => e.type === "approval-end")).toMatchObject({ approved: false, via: "timeout", by: "ws" });
  });

  it("a rejection holds by default: exit 4, run held, nothing compensated; --resume --approve runs the gated step and its dependents", async () => {
    const p = makeProject([pipeline()]);
    const run = wsAsync(p, ["run", "gate"]);
    await waitingStatus(p);
    expect(ws(p, ["reject", "gate", "--step", "deploy", "--reason", "freeze until Monday"]).code).toBe(0);
    const r = await run.done;
    expect(r.code).toBe(4);
    expect(started(p)).toEqual(["build"]);
    const state = readState(p, "gate");
    expect(state).toMatchObject({ status: "held", exitCode: 4 });
    expect(state.steps.deploy).toMatchObject({ state: "cancelled", reason: "held", attempts: 0 });
    expect((state.steps.deploy as { detail?: string }).detail).toMatch(/freeze until Monday; held: ws run --resume --approve deploy continues$/);
    expect(state.steps.smoke).toMatchObject({ state: "cancelled" });
    expect(readEvents(p, "gate").some((e) => e.type === "rollback-start")).toBe(false);
    expect(readEvents(p, "gate").find((e) => e.type === "run-end")).toMatchObject({ outcome: "held", exitCode: 4 });
    const status = ws(p, ["status", "gate"]);
    expect(status.stdout).toMatch(/^gate: held · run /);
    expect(status.stdout).toContain("held at deploy (approval rejected, nothing compensated); continue with: ws run --ws-id gate --resume --approve deploy");
    expect(r.stdout).toContain("held at deploy (approval rejected): continue with: ws run --ws-id gate --resume --approve deploy");

    const resumed = ws(p, ["run", "gate", "--resume", "--approve", "deploy"]);
    expect(resumed.code).toBe(0);
    expect(started(p)).toEqual(["build", "deploy", "smoke"]);
    expect(readState(p, "gate")).toMatchObject({ status: "passed", exitCode: 0 });
  });

  it("a gate timeout holds by default", () => {
    const p = makeProject([pipeline({ prompt: "Ship it?", timeout: 1 })]);
    const r = ws(p, ["run", "gate"]);
    expect(r.code).toBe(4);
    expect(readState(p, "gate").steps.deploy).toMatchObject({ state: "cancelled", reason: "held" });
    expect(started(p)).toEqual(["build"]);
  });

  it("--approve passes named gates (or all) without waiting; a name that is not a gated step is a usage error", () => {
    const p = makeProject([pipeline()]);
    const named = ws(p, ["run", "gate", "--approve", "deploy"]);
    expect(named.code).toBe(0);
    expect(readEvents(p, "gate").find((e) => e.type === "approval-end")).toMatchObject({ approved: true, via: "flag" });
    expect(ws(p, ["run", "gate", "--approve", "all"]).code).toBe(0);
    const typo = ws(p, ["run", "gate", "--approve", "deplyo"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--approve deplyo: gate has no step "deplyo"');
    expect(typo.stderr).toContain('did you mean "deploy"?');
    const ungated = ws(p, ["run", "gate", "--approve", "build"]);
    expect(ungated.code).toBe(2);
    expect(ungated.stderr).toContain('step "build" has no approval gate');
  });

  it("ws approve with no run going, without --step, or for a step past its gate says what to do (exit 2)", async () => {
    const p = makeProject([pipeline()]);
    const none = ws(p, ["approve", "gate", "--step", "deploy"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no run of gate is going");
    expect(none.stderr).toContain("ws run gate --approve deploy");
    const noStep = ws(p, ["reject", "gate"]);
    expect(noStep.code).toBe(2);
    expect(noStep.stderr).toContain("ws reject needs --step <id>");
    const run = wsAsync(p, ["run", "gate"]);
    await waitingStatus(p);
    expect(ws(p, ["approve", "gate", "--step", "deploy"]).code).toBe(0);
    await run.done;
    expect(ws(p, ["approve", "gate", "--step", "deploy"]).stderr).toContain("no run of gate is going (the last one ended passed)");
  });
});
