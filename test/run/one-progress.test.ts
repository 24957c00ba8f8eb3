import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, waitFor, ws, wsAsync } from "./rig.js";

afterEach(cleanup);

// Seed 003's shape: init, three workers in a group (a third of the group's share each), a merge.
const SEED_003 = {
  id: "pool",
  execution: { max_workers: 3, isolation: "none" },
  defaults: { tool: "shell" },
  step_groups: [{ id: "workers", steps: ["w1", "w2", "w3"] }],
  steps: [
    { id: "init", run: "true" },
    { id: "w1", run: 'echo 1/2 > "$WS_PROGRESS"; while [ ! -f go ]; do sleep 0.05; done', depends_on: ["init"] },
    { id: "w2", run: "true", depends_on: ["init"] },
    { id: "w3", run: "true", depends_on: ["init"] },
    { id: "merge", run: "true", depends_on: ["workers"] },
  ],
};

interface StatusJson {
  steps: Record<string, { weight?: number; progress?: number }>;
  progress: { done: number; total: number; fraction: number; etaMs?: number };
}

describe("one progress figure", () => {
  it("ws status (table and --json) says the live view's share of the work at the same moment, weights and $WS_PROGRESS included", async () => {
    const p = makeProject([SEED_003]);
    // Plain output: after 10 s without a line the live view prints its progress line.
    const run = wsAsync(p, ["run", "pool"]);
    const live = await waitFor("the live view's progress line", () => /progress: (\d+\/\d+ done \((\d+)% of the expected work\))/.exec(run.output()) ?? undefined, 60_000);
    // w1 waits for the go file: nothing changes between the line and these two reads.
    const table = ws(p, ["status", "pool"]).stdout;
    const json = JSON.parse(ws(p, ["status", "pool", "--json"]).stdout) as StatusJson;
    fs.writeFileSync(path.join(p.dir, "go"), "");
    expect((await run.done).code).toBe(0);

    // init (1) + w2, w3 (1/3 each) + half of w1 (1/6), of 3: 61%.
    expect(live[1]).toBe("3/5 done (61% of the expected work)");
    expect(table).toMatch(/ · 61% of the expected work done/);
    expect(json.progress).toMatchObject({ done: 3, total: 5 });
    expect(Math.floor(json.progress.fraction * 100)).toBe(Number(live[2]));
    expect(json.steps.init).toMatchObject({ weight: 1 / 3, progress: 1 });
    expect(json.steps.w1).toMatchObject({ weight: 1 / 9, progress: 0.5 });
    expect(json.steps.merge).toMatchObject({ weight: 1 / 3, progress: 0 });
    const after = JSON.parse(ws(p, ["status", "pool", "--json"]).stdout) as StatusJson;
    expect(after.progress).toMatchObject({ done: 5, total: 5, fraction: 1 });
    expect(after.steps.w1).toMatchObject({ progress: 1 });
  });
});
