import { afterAll, describe, expect, it } from "vitest";
import { BOX, elide, fitColumns, SPACED } from "../../src/cli/fit-columns.js";
import { timesLine } from "../../src/cli/summary-table.js";
import type { RunState } from "../../src/store/run-state.js";
import { cleanup, makeProject, wsc } from "../run/rig.js";

/** Tables fit the terminal (its width, or $COLUMNS when piped), and keep step ids whole and distinct. */

afterAll(cleanup);

const columns = (line: string) => [...line].length;
const widest = (text: string) => Math.max(...text.split("\n").map(columns));

describe("fitColumns", () => {
  const rows = [
    ["id", "reason", "log"],
    ["a-rather-long-step-id-one", "exit:1: the tool said something long about what went wrong", "steps/a/attempt-1.log"],
    ["a-rather-long-step-id-two", "", "steps/b/attempt-1.log"],
  ];

  it("cuts and drops only the columns its plan names, in order, as few as it takes", () => {
    const natural = BOX([25, 58, 21]);
    expect(fitColumns(rows, natural, [{ cut: 1, keep: "start", min: 10 }]).rows).toEqual(rows);
    const cut = fitColumns(rows, natural - 20, [{ cut: 1, keep: "start", min: 10 }, { drop: 2 }]);
    expect(cut.dropped.size).toBe(0);
    expect(cut.rows[1]?.[1]).toBe("exit:1: the tool said something long …");
    expect(cut.rows[1]?.[0]).toBe("a-rather-long-step-id-one");
    const dropped = fitColumns(rows, 60, [{ cut: 1, keep: "start", min: 10 }, { drop: 2 }]);
    expect([...dropped.dropped]).toEqual([2]);
    expect(dropped.rows.map((r) => r.length)).toEqual([2, 2, 2]);
    expect(BOX(dropped.rows[0]!.map((_, i) => Math.max(...dropped.rows.map((r) => columns(r[i]!)))))).toBeLessThanOrEqual(60);
  });

  it("measures spaced columns as ws list draws them, and elides from either end", () => {
    expect(SPACED([2, 3, 4])).toBe(13);
    expect(elide("abcdef", 4)).toBe("abc…");
    expect(elide("abcdef", 4, "end")).toBe("…def");
    expect(elide("abc", 4)).toBe("abc");
  });
});

describe("timesLine", () => {
  const state = { runId: "r2", hash: "h", status: "passed", durationMs: 10_000, sequentialMs: 26_300, order: ["a"], steps: { a: { id: "a", state: "passed", attempts: 1, selected: true } } } as unknown as RunState;

  it("says what the speed-up compares: the summed step times", () => {
    expect(timesLine("w", state)).toBe("w: passed in 10s; step times summed: 26.3s, 2.63x this run's time");
  });

  it("compares with a measured one-worker run of the same file when there is one", () => {
    const oneWorker = { runId: "r1", hash: "h", wallMs: 24_000 };
    expect(timesLine("w", state, { oneWorker })).toBe("w: passed in 10s; a one-worker run took 24s, 2.40x this run's time; step times summed: 26.3s");
    // Not with itself, not with another version of the file, not for a partial run.
    for (const other of [{ ...oneWorker, runId: "r2" }, { ...oneWorker, hash: "changed" }]) expect(timesLine("w", state, { oneWorker: other })).not.toContain("one-worker");
    const partial = { ...state, steps: { a: { ...state.steps.a!, selected: false } } } as RunState;
    expect(timesLine("w", partial, { oneWorker })).not.toContain("one-worker");
  });

  it("puts the estimate beside the time a run took, unless Ctrl-C cut it short", () => {
    const estimated = { ...state, estimateMs: 9_000 } as RunState;
    expect(timesLine("w", estimated)).toMatch(/; estimated 9s, took 10s$/);
    expect(timesLine("w", { ...estimated, status: "cancelled" } as RunState)).not.toContain("estimated");
  });
});

describe.concurrent("the measured one-worker run through the built binary", () => {
  it("a full --max-workers 1 run that passed is what the next parallel run compares with", async () => {
    const p = makeProject([{ id: "two", steps: [{ id: "a", tool: "shell", run: "true" }, { id: "b", tool: "shell", run: "true" }] }]);
    const one = await wsc(p, ["run", "two", "--max-workers", "1"]);
    expect(one.code).toBe(0);
    expect(one.stdout).not.toContain("one-worker");
    const parallel = await wsc(p, ["run", "two"]);
    expect(parallel.stdout).toMatch(/two: passed in \S+; a one-worker run took \S+(, \d+\.\d\dx this run's time)?; step times summed: \S+/);
    // A partial run has nothing to compare with it.
    expect((await wsc(p, ["run", "two", "--only", "a"])).stdout).not.toContain("one-worker");
  });
});

const long = "slugify-unicode-normalization-of-titles";
/** A step whose acceptance test fails: its one-line detail names the long command. */
const fail = (id: string) => ({ id, tool: "shell", run: "true", acceptance_tests: [`test 'the ${id} check found a problem that takes a long sentence to explain' = ''`] });
const detail = (id: string) => `acceptance test 1 exited 1: test 'the ${id} check found a problem that takes a long sentence to explain' = ''`;

describe.concurrent("tables through the built binary", () => {
  it("ws run and ws status fit COLUMNS=80, with two ids of one long prefix whole and distinct", async () => {
    const p = makeProject([{ id: "fit", name: "A workstream whose name is much longer than any terminal column should have to hold", steps: [fail(`${long}-check`), fail(`${long}-fixes`), { id: "ok", tool: "shell", run: "true" }] }]);
    const run = await wsc(p, ["run", "fit"], { COLUMNS: "80" });
    expect(run.code).toBe(1);
    const summary = run.stdout.slice(run.stdout.indexOf("┌"));
    expect(widest(summary.slice(0, summary.indexOf("fit: failed")))).toBeLessThanOrEqual(80);
    for (const id of [`${long}-check`, `${long}-fixes`]) {
      expect(summary).toContain(`│ ${id} `);
      // The reason is still there, under the table when the table has no room for it.
      expect(summary).toContain(`${id}:\n  tests_failed: acceptance test 1 exited 1: test 'the slugify`);
    }
    const status = await wsc(p, ["status", "fit"], { COLUMNS: "80" });
    const table = status.stdout.split("\n").filter((l) => /^[┌│└]/.test(l));
    expect(widest(table.join("\n"))).toBeLessThanOrEqual(80);
    expect(table.join("\n")).toContain(`│ ${long}-check `);
    expect(table.join("\n")).toContain(`│ ${long}-fixes `);
    expect(status.stdout).toContain("logs: ws logs fit --step <step>");

    const list = await wsc(p, ["list"], { COLUMNS: "80" });
    expect(widest(list.stdout)).toBeLessThanOrEqual(80);
    expect(list.stdout).toMatch(/^fit {2}/m);
    const overview = await wsc(p, ["status"], { COLUMNS: "40" });
    expect(widest(overview.stdout)).toBeLessThanOrEqual(40);
  });

  it("with a shorter id, the reason stays in its column, cut", async () => {
    const p = makeProject([{ id: "cut", steps: [fail("lint")] }]);
    const run = await wsc(p, ["run", "cut"], { COLUMNS: "80" });
    const row = run.stdout.split("\n").find((l) => l.startsWith("│ lint "));
    expect(row).toBeDefined();
    expect(columns(row!)).toBeLessThanOrEqual(80);
    expect(row).toMatch(/│ tests_failed: acceptance .*… │$/);
  });

  it("piped without COLUMNS, nothing is cut: a script reads whole reasons and log paths", async () => {
    const p = makeProject([{ id: "whole", name: "A workstream whose name is much longer than any terminal column should have to hold", steps: [fail(`${long}-check`)] }]);
    await wsc(p, ["run", "whole"]);
    const status = await wsc(p, ["status", "whole"]);
    // The detail's first 100 characters: a one-line summary (the rest is in ws logs), never cut to a width.
    expect(status.stdout).toContain(`tests_failed: ${detail(`${long}-check`).slice(0, 99)}…`);
    expect(status.stdout).toContain(`.worktrees/whole/steps/${long}-check/attempt-1.log`);
    expect((await wsc(p, ["list"])).stdout).toContain("A workstream whose name is much longer than any terminal column should have to hold");
  });
});
