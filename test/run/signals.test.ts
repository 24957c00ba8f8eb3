import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gone, groupSurvivors, makeProject, readRecord, readState, rec, recStep, ws, type RecordLine } from "./rig.js";

// Step timeouts: a step must get as far as recording its start before its timeout kills it, so
// this file runs alone, after the others (vitest.config.ts, SERIAL); the signals, crashes and the
// lock, which wait for events and markers and never for a clock, are in interrupts.test.ts.
// "No survivors" is checked by pid and by process group (from /proc), after ws has exited; the
// waits are safety nets for asynchronous reaping.

afterEach(cleanup);

const starts = (lines: RecordLine[], id: string) => lines.filter((l) => l.id === id && l.event === "start");

describe("ws run: timeouts", () => {
  it("a timed-out step is killed with its grandchildren; the step fails with reason timeout", async () => {
    const p = makeProject([{ id: "slow", steps: [recStep("hangs", ["--grandchild", "--hang"], { timeout: 1 })] }]);
    const r = ws(p, ["run", "--ws-id", "slow"]);
    expect(r.code).toBe(1);
    expect(readState(p, "slow").steps.hangs).toMatchObject({ state: "failed", reason: "timeout" });
    const lines = readRecord(p);
    const leader = starts(lines, "hangs")[0]!;
    const grandchild = lines.find((l) => l.event === "grandchild")!.child!;
    expect(await gone(leader.pid)).toBe(true);
    expect(await gone(grandchild)).toBe(true);
    expect(await groupSurvivors(leader.pgid)).toEqual([]);
    expect(fs.readFileSync(path.join(p.state("slow"), "steps", "hangs", "attempt-1.log"), "utf8")).toContain("timeout after 1s (SIGTERM)");
  });

  it("a step and a grandchild that ignore SIGTERM are killed with SIGKILL after the grace period", async () => {
    // exec: the step's leader is record.mjs itself, not a shell that would die of the SIGTERM.
    const p = makeProject([{ id: "stubborn", steps: [{ id: "deaf", run: `exec ${rec("deaf", "--grandchild", "--ignore-term", "--hang")}`, timeout: 1 }] }]);
    const r = ws(p, ["run", "--ws-id", "stubborn"]);
    expect(r.code).toBe(1);
    expect(readState(p, "stubborn").steps.deaf).toMatchObject({ state: "failed", reason: "timeout" });
    const lines = readRecord(p);
    const leader = starts(lines, "deaf")[0]!;
    expect(leader.pid).toBe(leader.pgid);
    expect(await gone(leader.pid)).toBe(true);
    expect(await gone(lines.find((l) => l.event === "grandchild")!.child!)).toBe(true);
    expect(await groupSurvivors(leader.pgid)).toEqual([]);
    const log = fs.readFileSync(path.join(p.state("stubborn"), "steps", "deaf", "attempt-1.log"), "utf8");
    expect(log).toContain("deaf ignores SIGTERM");
    expect(log).toContain("SIGTERM, then SIGKILL");
  });

  it("a step that exits leaving a background grandchild: the grandchild is swept, the run does not wait for it", async () => {
    const p = makeProject([{ id: "leaves", steps: [recStep("leaves", ["--grandchild"]), recStep("next", [], { depends_on: ["leaves"] })] }]);
    const r = ws(p, ["run", "--ws-id", "leaves"]);
    expect(r.code).toBe(0);
    const lines = readRecord(p);
    expect(await gone(lines.find((l) => l.event === "grandchild")!.child!)).toBe(true);
    expect(await groupSurvivors(starts(lines, "leaves")[0]!.pgid)).toEqual([]);
  });

  it("a timed-out step is retried like any failed attempt", () => {
    // 2 s, not less: each attempt must get as far as recording its start (a node start-up, which
    // a loaded 2-core machine can stretch past half a second) before its timeout kills it.
    const p = makeProject([{ id: "retry-timeout", steps: [recStep("hangs", ["--hang"], { timeout: 2, retries: 1 })] }]);
    expect(ws(p, ["run", "--ws-id", "retry-timeout"]).code).toBe(1);
    expect(starts(readRecord(p), "hangs")).toHaveLength(2);
    expect(readState(p, "retry-timeout").steps.hangs).toMatchObject({ state: "failed", reason: "timeout", attempts: 2 });
  });
});
