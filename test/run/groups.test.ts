import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gone, makeProject, readRecord, readState, recStep, waitFor, ws, type RecordLine } from "./rig.js";

afterEach(cleanup);

const startOf = (lines: RecordLine[], id: string) => lines.find((l) => l.id === id && l.event === "start");

describe("ws run: step groups (any, race, timeout)", () => {
  it("succeed any: one member failing does not fail the run; the group's dependent runs after the passing one", () => {
    const p = makeProject([
      {
        id: "anyg",
        step_groups: [{ id: "alts", steps: ["flaky", "solid"], succeed: "any" }],
        steps: [recStep("flaky", ["--exit", 5]), recStep("solid"), recStep("after", [], { depends_on: ["alts"] })],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "anyg"]);
    expect(r.code, r.stdout).toBe(0);
    const { steps } = readState(p, "anyg");
    expect(steps.flaky).toMatchObject({ state: "failed", reason: "exit:5" });
    expect(steps.after).toMatchObject({ state: "passed" });
  });

  it("cancel_rest: the first to pass wins, the others are killed (lost_race) and the run passes", async () => {
    const p = makeProject([
      {
        id: "race",
        step_groups: [{ id: "best", steps: ["fast", "slow"], succeed: "any", cancel_rest: true }],
        steps: [recStep("fast", ["--wait-starts", 2]), recStep("slow", ["--grandchild", "--hang"]), recStep("use", [], { depends_on: ["best"] })],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "race"]);
    expect(r.code, r.stdout).toBe(0);
    const { steps } = readState(p, "race");
    expect(steps.fast).toMatchObject({ state: "passed" });
    expect(steps.slow).toMatchObject({ state: "cancelled", reason: "lost_race" });
    expect(steps.use).toMatchObject({ state: "passed" });
    const slow = await waitFor("slow's start", () => startOf(readRecord(p), "slow"));
    expect(await gone(slow.pid)).toBe(true);
    expect(ws(p, ["status", "--ws-id", "race"]).stdout).toMatch(/slow .*cancelled.*lost_race/);
    expect(ws(p, ["graph", "--ws-id", "race", "--format", "mermaid"]).stdout).toContain("best (any, race)");
  });

  it("a group timeout stops the members still running (group_timeout) and cancels the rest; exit 1", () => {
    const p = makeProject([
      {
        id: "gto",
        step_groups: [{ id: "slowgroup", steps: ["hang", "next"], execute: "sequential", timeout: 1 }],
        steps: [recStep("hang", ["--hang"]), recStep("next")],
      },
    ]);
    const r = ws(p, ["run", "--ws-id", "gto"]);
    expect(r.code).toBe(1);
    const { steps } = readState(p, "gto");
    expect(steps.hang).toMatchObject({ state: "failed", reason: "group_timeout" });
    expect(steps.next).toMatchObject({ state: "cancelled", reason: "group_timeout", attempts: 0 });
  });
});
