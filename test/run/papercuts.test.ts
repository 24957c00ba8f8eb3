import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readState, recStep, rec, ws } from "./rig.js";

afterEach(cleanup);

/** The papercuts of issue 34.8, each through the built binary. */
describe("papercuts (issue 34)", () => {
  it("ws reject --help says a rejection holds the run (on_reject hold is the default), and when it fails the step", () => {
    const p = makeProject([]);
    const help = ws(p, ["reject", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/holds the run/);
    expect(help.stdout).toMatch(/on_reject\s+"fail"/);
    expect(help.stdout).not.toMatch(/: it fails \(reason rejected\)/);
  });

  it("a step behind a held gate names the gate (held_by:<gate>), down the chain, in the state and in ws status", () => {
    const p = makeProject([
      {
        id: "gate",
        steps: [
          recStep("build"),
          recStep("deploy", [], { depends_on: ["build"], approval: { prompt: "Ship?", timeout: 1 } }),
          recStep("smoke", [], { depends_on: ["deploy"] }),
          recStep("announce", [], { depends_on: ["smoke"] }),
        ],
      },
    ]);
    const r = ws(p, ["run", "gate"]);
    expect(r.code).toBe(4);
    const { steps } = readState(p, "gate");
    expect(steps.deploy).toMatchObject({ state: "cancelled", reason: "held" });
    expect(steps.smoke).toMatchObject({ state: "cancelled", reason: "held_by:deploy", attempts: 0 });
    expect(steps.announce).toMatchObject({ state: "cancelled", reason: "held_by:deploy", attempts: 0 });
    expect(ws(p, ["status", "gate"]).stdout).toMatch(/smoke .*held_by:deploy/);
  });

  it("ws run --rollback of a run that passed ends rolled_back (exit 0), not passed", () => {
    const p = makeProject([{ id: "undo", execution: { isolation: "none" }, steps: [recStep("make", [], { compensate: rec("unmake") })] }]);
    expect(ws(p, ["run", "undo"]).code).toBe(0);
    const r = ws(p, ["run", "undo", "--rollback"]);
    expect(r.code).toBe(0);
    const end = readEvents(p, "undo").filter((e) => e.type === "run-end").at(-1);
    expect(end).toMatchObject({ outcome: "rolled_back", exitCode: 0 });
    expect(r.stdout).toMatch(/^undo: rolled_back in /m);
    expect(r.stdout).not.toMatch(/run passed/);
    expect(ws(p, ["status", "undo"]).stdout).toMatch(/^undo: rolled_back · run /);
  });
});
