import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readRecord, readState, recStep, writeWorkstream, type RecordLine, wsc } from "./rig.js";

// Every test has its own project and spends most of its time waiting for ws: the tests run
// concurrently, so the cleanup waits for all of them.
afterAll(cleanup);

/** ws to completion without blocking the other tests of this file. */

const ESC = "\u001b";

const started = (lines: RecordLine[]) => lines.filter((l) => l.event === "start").map((l) => l.id);

/** a → b → c, b → e, and d on its own. */
const CHAIN = {
  id: "chain",
  execution: { max_workers: 2 },
  steps: [
    recStep("a"),
    recStep("b", [], { depends_on: ["a"] }),
    recStep("c", [], { depends_on: ["b"] }),
    recStep("d"),
    recStep("e", [], { depends_on: ["b"] }),
  ],
};

describe.concurrent("ws run: selecting steps", () => {
  it("--only runs just the named steps; unselected dependencies count as satisfied", async () => {
    const p = makeProject([CHAIN]);
    const r = await wsc(p, ["run", "--ws-id", "chain", "--only", "c,d"]);
    expect(r.code).toBe(0);
    expect(started(readRecord(p)).sort()).toEqual(["c", "d"]);
    const state = readState(p, "chain");
    expect(state.steps.c).toMatchObject({ state: "passed", selected: true });
    expect(state.steps.a).toMatchObject({ state: "pending", selected: false });
    expect(readEvents(p, "chain")[0]).toMatchObject({ type: "run-start", selected: ["c", "d"] });
  });

  it("--from runs a step and everything that depends on it", async () => {
    const p = makeProject([CHAIN]);
    expect((await wsc(p, ["run", "--ws-id", "chain", "--from", "b"])).code).toBe(0);
    const order = started(readRecord(p));
    expect([...order].sort()).toEqual(["b", "c", "e"]);
    expect(order[0]).toBe("b");
  });

  it("--dry-run prints waves, critical path and estimate, and runs nothing (no state folder)", async () => {
    const p = makeProject([CHAIN]);
    const r = await wsc(p, ["run", "--ws-id", "chain", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("plan for chain: 5 steps, 2 workers (dry run: nothing runs)");
    expect(r.stdout).toContain("  wave 1: a, d");
    expect(r.stdout).toContain("  wave 2: b");
    expect(r.stdout).toContain("  wave 3: c, e");
    expect(r.stdout).toMatch(/ {2}critical path: a → b → [ce]\n/);
    expect(r.stdout).toContain("estimate: unknown until a first run has recorded step durations");
    expect(readRecord(p)).toEqual([]);
    expect(fs.existsSync(path.join(p.dir, ".worktrees"))).toBe(false);

    // After a real run, durations are known: the estimate is a figure.
    expect((await wsc(p, ["run", "--ws-id", "chain"])).code).toBe(0);
    const runs = readRecord(p).length;
    const again = await wsc(p, ["run", "--ws-id", "chain", "--dry-run", "--max-workers", "1", "--only", "a,b"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("plan for chain: 2 steps, 1 workers");
    expect(again.stdout).toMatch(/estimate: \S+ \(1 worker; (ws.s own time \S+ a step, \S+ a run; )?critical path \S+, work \S+\)/);
    expect(readRecord(p)).toHaveLength(runs);

    const json = await wsc(p, ["run", "--ws-id", "chain", "--dry-run", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ waves: [["a", "d"], ["b"], ["c", "e"]], maxWorkers: 2 });
  });

  it("--json prints one event per line, and only events", async () => {
    const p = makeProject([CHAIN]);
    const r = await wsc(p, ["run", "--ws-id", "chain", "--json"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.pop()).toBe("");
    const events = lines.map((l) => JSON.parse(l) as { type: string; at: string; step?: string });
    for (const e of events) {
      expect(typeof e.type).toBe("string");
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    }
    expect(events[0]?.type).toBe("run-start");
    expect(events.at(-1)).toMatchObject({ type: "run-end", outcome: "passed", exitCode: 0 });
    expect(events.filter((e) => e.type === "step-end")).toHaveLength(5);
    // The same events as the file.
    expect(events).toEqual(readEvents(p, "chain", { printed: false }));
  });

  it("--json keeps the exit code of a failed run", async () => {
    const p = makeProject([{ id: "red", steps: [recStep("bad", ["--exit", 2])] }]);
    const r = await wsc(p, ["run", "--ws-id", "red", "--json"]);
    expect(r.code).toBe(1);
    for (const line of r.stdout.trim().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});

describe.concurrent("ws run --resume", () => {
  it("refuses a workstream file changed since the run, unless --force", async () => {
    const workstream = { id: "edit", steps: [recStep("good"), recStep("bad", ["--fail-first", 1])] };
    const p = makeProject([workstream]);
    expect((await wsc(p, ["run", "--ws-id", "edit"])).code).toBe(1);
    writeWorkstream(p.dir, { ...workstream, description: "edited since" });

    const refused = await wsc(p, ["run", "--ws-id", "edit", "--resume"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("workstreams/edit.json changed since the run being resumed");
    expect(refused.stderr).toContain("--resume --force");
    expect(started(readRecord(p)).sort()).toEqual(["bad", "good"]);

    const forced = await wsc(p, ["run", "--ws-id", "edit", "--resume", "--force"]);
    expect(forced.code).toBe(0);
    expect(started(readRecord(p)).sort()).toEqual(["bad", "bad", "good"]);
  });

  it("with no earlier run, says so (exit 2)", async () => {
    const p = makeProject([{ id: "fresh", steps: [recStep("a")] }]);
    const r = await wsc(p, ["run", "--ws-id", "fresh", "--resume"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("there is no run of fresh to resume");
  });
});

describe.concurrent("ws run: output and tools", () => {
  it("piped output is plain: timestamped lines, no escape codes, also for failures", async () => {
    const p = makeProject([{ id: "plain", steps: [recStep("ok"), recStep("bad", ["--exit", 1]), recStep("after", [], { depends_on: ["bad"] })] }]);
    const r = await wsc(p, ["run", "--ws-id", "plain"]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(ESC);
    const progress = r.stdout.split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
    expect(progress.some((l) => l.includes("start  ok (attempt 1, shell)"))).toBe(true);
    expect(progress.some((l) => l.includes("failed bad (exit:1)"))).toBe(true);
    expect(progress.some((l) => l.includes("blocked after (blocked_by:bad)"))).toBe(true);
    expect(r.stdout).toContain("details: ws status --ws-id plain");

    // Under CI too (where a terminal may be faked), and for ws status and ws logs.
    expect((await wsc(p, ["run", "--ws-id", "plain"], { CI: "true" })).stdout).not.toContain(ESC);
    expect((await wsc(p, ["status", "--ws-id", "plain"])).stdout).not.toContain(ESC);
    expect((await wsc(p, ["status"])).stdout).not.toContain(ESC);
    expect((await wsc(p, ["logs", "--ws-id", "plain"])).stdout).not.toContain(ESC);
  });

  it("a missing tool: exit 2 naming the tool and the steps that need it, before any step runs", async () => {
    const p = makeProject([
      {
        id: "tools",
        tools: { mytool: { command: "ws-test-no-such-tool", args: ["{prompt}"] } },
        steps: [
          recStep("first"),
          { id: "draft", tool: "mytool", tasks: ["write it"], file_scope: ["a.txt"], depends_on: ["first"] },
          { id: "polish", tool: "mytool", tasks: ["polish it"], file_scope: ["b.txt"] },
          { id: "review", tool: "aider", tasks: ["review"], file_scope: ["c.txt"] },
          { id: "maybe", tool: "codex", tasks: ["never"], file_scope: ["d.txt"], when: false },
        ],
      },
    ]);
    const r = await wsc(p, ["run", "--ws-id", "tools"], { WS_AIDER_BIN: path.join(p.dir, "no-aider-here") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mytool (looked for "ws-test-no-such-tool") is needed by: draft, polish');
    expect(r.stderr).toContain(`aider (looked for "${path.join(p.dir, "no-aider-here")}") is needed by: review`);
    // A step that will be skipped needs no tool.
    expect(r.stderr).not.toContain("codex");
    expect(readRecord(p)).toEqual([]);
    expect(fs.existsSync(path.join(p.dir, ".worktrees"))).toBe(false);

    // --only steps that need no missing tool run.
    expect((await wsc(p, ["run", "--ws-id", "tools", "--only", "first"])).code).toBe(0);
    expect(started(readRecord(p))).toEqual(["first"]);
  });
});
