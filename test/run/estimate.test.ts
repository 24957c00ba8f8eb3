import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gitProject, waitFor, ws, wsAsync, type Project } from "./rig.js";

afterEach(cleanup);

const shell = (id: string, run: string, extra: object = {}) => ({ id, run, ...extra });

/**
 * The three cases of issue 34, each where max(critical path, work / workers) came out 2.5–4x low.
 * Steps of 0.4 s in the groups: on a machine loaded by others, what ws's own time does from one
 * run to the next is noise the estimate cannot know; the chain of no-op steps is all ws's time.
 */
const SEQUENTIAL = {
  id: "seq",
  execution: { max_workers: 3 },
  defaults: { tool: "shell" },
  step_groups: [{ id: "one-by-one", steps: ["a", "b", "c", "d"], execute: "sequential" }],
  steps: ["a", "b", "c", "d"].map((id) => shell(id, "sleep 0.4")),
};
const CAPPED = {
  id: "capped",
  execution: { max_workers: 4 },
  defaults: { tool: "shell" },
  step_groups: [{ id: "pairs", steps: ["a", "b", "c", "d", "e", "f"], max_workers: 2 }],
  steps: ["a", "b", "c", "d", "e", "f"].map((id) => shell(id, "sleep 0.4")),
};
const CHAIN = {
  id: "chain20",
  defaults: { tool: "shell" },
  steps: Array.from({ length: 20 }, (_, i) => shell(`s${i}`, "true", { depends_on: i === 0 ? [] : [`s${i - 1}`] })),
};

function lastState(p: Project, id: string): { estimateMs?: number; durationMs?: number; status: string } {
  return JSON.parse(fs.readFileSync(path.join(p.state(id), "state.json"), "utf8")) as { estimateMs?: number; durationMs?: number; status: string };
}

describe("the estimate knows groups, workers and ws's own time", () => {
  it("a sequential group's members get a wave each, in the group's order (dry run and ws graph)", () => {
    const p = gitProject([SEQUENTIAL]);
    const dry = ws(p, ["run", "seq", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("  wave 1: a\n  wave 2: b\n  wave 3: c\n  wave 4: d\n");
    expect(dry.stdout).toContain("critical path: a → b → c → d");
    const graph = JSON.parse(ws(p, ["graph", "seq", "--format", "json"]).stdout) as { waves: string[][] };
    expect(graph.waves).toEqual([["a"], ["b"], ["c"], ["d"]]);
    expect((JSON.parse(ws(p, ["graph", "seq", "--format", "json"]).stdout) as { criticalPath: string[] }).criticalPath).toEqual(["a", "b", "c", "d"]);
  });

  it("after one run, the second run's estimate is within 1.25x of the run it learned from, on each case", () => {
    const ratios: Record<string, number> = {};
    for (const doc of [SEQUENTIAL, CAPPED, CHAIN]) {
      const p = gitProject([doc]);
      expect(ws(p, ["run", doc.id]).code).toBe(0);
      const measured = lastState(p, doc.id).durationMs!;
      const dry = ws(p, ["run", doc.id, "--dry-run"]);
      expect(dry.stdout).toMatch(/estimate: \S+ \(\d+ workers?; .*ws's own time \S+ a step, \S+ a run; critical path/);
      const second = ws(p, ["run", doc.id]);
      expect(second.code).toBe(0);
      const state = lastState(p, doc.id);
      expect(state.estimateMs).toBeGreaterThan(0);
      // The end line puts the two side by side.
      expect(second.stdout).toMatch(/estimated \S+, took \S+/);
      // Against the run it learned from: the second run's own time on a machine loaded by others
      // swings by more than the bound (a chain of 20 no-op steps is all ws's time: 0.84-1.35x).
      ratios[doc.id] = measured / state.estimateMs!;
      console.log(`${doc.id}: estimated ${state.estimateMs} ms from a run of ${measured} ms; the second took ${state.durationMs} ms`);
    }
    for (const [id, ratio] of Object.entries(ratios)) {
      expect({ id, ratio, within: ratio <= 1.25 && ratio >= 1 / 1.25 }).toMatchObject({ id, within: true });
    }
  });

  it("on a first run (no history), elapsed + the ETA ws status gives mid-run is within 2x of the run's length", async () => {
    // Steps long enough that a status read lands mid-run; the same shapes as above.
    const slower = (doc: typeof SEQUENTIAL | typeof CAPPED | typeof CHAIN, run: string) => ({ ...doc, steps: doc.steps.map((s) => ({ ...s, run })) });
    const ratios: Record<string, number> = {};
    for (const doc of [slower(SEQUENTIAL, "sleep 0.3"), slower(CAPPED, "sleep 0.3"), slower(CHAIN, "sleep 0.1")]) {
      const p = gitProject([doc]);
      const running = wsAsync(p, ["run", doc.id]);
      type Status = { status: string; startedAt: string; endedAt?: string; progress?: { done: number; total: number; etaMs?: number; elapsedMs?: number } };
      // The first read with some work done and an ETA: the pace alone gives it on a first run.
      const mid = await waitFor(`${doc.id} mid-run`, () => {
        const r = ws(p, ["status", doc.id, "--json"]);
        if (r.code !== 0 || !r.stdout.startsWith("{")) return undefined;
        const s = JSON.parse(r.stdout) as Status;
        if (s.status !== "running") return s.status === "passed" ? s : undefined;
        return s.progress && s.progress.done > 0 && s.progress.etaMs !== undefined ? s : undefined;
      });
      expect((await running.done).code).toBe(0);
      // A run so quick that no read landed mid-run has nothing to compare: the shapes above are slow enough for that.
      expect(mid.status).toBe("running");
      const end = JSON.parse(ws(p, ["status", doc.id, "--json"]).stdout) as Status;
      const length = Date.parse(end.endedAt!) - Date.parse(end.startedAt);
      const expected = mid.progress!.elapsedMs! + mid.progress!.etaMs!;
      ratios[doc.id] = length / expected;
      console.log(`${doc.id} (first run): expected ${expected} ms at ${mid.progress!.done}/${mid.progress!.total} done, took ${length} ms`);
    }
    for (const [id, ratio] of Object.entries(ratios)) {
      expect({ id, ratio, within: ratio <= 2 && ratio >= 1 / 2 }).toMatchObject({ id, within: true });
    }
  });
});
