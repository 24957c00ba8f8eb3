import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, ws } from "./rig.js";
import { timeSaved } from "../../src/events/time-saved.js";

afterEach(cleanup);

const PARALLEL = {
  id: "fan",
  execution: { max_workers: 3 },
  defaults: { tool: "shell" },
  steps: ["a", "b", "c"].map((id) => ({ id, run: "sleep 0.3" })),
};

describe("time saved and parallel efficiency", () => {
  it("is the summed step times against the wall time, and those over wall time × workers", () => {
    expect(timeSaved(4000, 10_000, 4)).toEqual({ savedMs: 6000, savedFraction: 0.6, efficiency: 10_000 / 16_000, workers: 4 });
    // A chain saves nothing: ws's own time is no negative saving.
    expect(timeSaved(1200, 1000, 3)).toMatchObject({ savedMs: 0, savedFraction: 0 });
    expect(timeSaved(0, 0, 3)).toBeUndefined();
  });

  it("the end line, the Markdown summary and --json's run-end say both", () => {
    const p = makeProject([PARALLEL]);
    const run = ws(p, ["run", "fan", "--summary", "summary.md"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/fan: passed in \S+; step times summed: \S+.*; saved \S+, \d+%; parallel efficiency \d+% of 3 workers/);
    const summary = fs.readFileSync(path.join(p.dir, "summary.md"), "utf8");
    expect(summary).toMatch(/\| time saved \| \S+, \d+% against one at a time \(step times summed\) \|/);
    expect(summary).toMatch(/\| parallel efficiency \| \d+% \(step times summed \/ \(wall time × 3 workers\)\) \|/);

    const json = ws(p, ["run", "fan", "--json"]);
    const end = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, number | string>).find((e) => e.type === "run-end")!;
    const { durationMs, sequentialMs, savedMs, savedFraction, efficiency, workers } = end as Record<string, number>;
    expect(workers).toBe(3);
    expect(savedMs).toBe(Math.max(0, Math.round(sequentialMs! - durationMs!)));
    expect(savedFraction).toBeCloseTo(savedMs! / sequentialMs!, 6);
    expect(efficiency).toBeCloseTo(Math.min(1, sequentialMs! / (durationMs! * 3)), 6);
  });
});
