import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, ws } from "./rig.js";

afterEach(cleanup);

// The built binary: a seed file's adaptive_scaling still runs (as max_workers "auto") and says what replaced it.
describe("adaptive_scaling and max_workers auto through ws", () => {
  const doc = { id: "seed", execution: { isolation: "none", adaptive_scaling: true }, steps: [{ id: "a", tool: "shell", run: "true" }, { id: "b", tool: "shell", run: "true" }] };

  it("ws run accepts it with a deprecation warning at file:line:col and the fix, and passes", () => {
    const p = makeProject([doc]);
    const r = ws(p, ["run", "--ws-id", "seed"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/run \S+ of seed: 2\/2 steps, \d+ workers \(auto: fewer under load\), in /);
    expect(r.stderr).toMatch(/workstreams\/seed\.json:\d+:\d+: warning: execution\.adaptive_scaling is deprecated: true means max_workers "auto"/);
    expect(r.stderr).toContain('fix: replace it with "max_workers": "auto"');
  });

  it("ws validate passes the file with the warning; --json runs print only events, warnings about the load included", () => {
    const p = makeProject([doc]);
    const v = ws(p, ["validate"]);
    expect(v.code).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/seed\.json:\d+:\d+: warning: execution\.adaptive_scaling is deprecated/);
    const r = ws(p, ["run", "--ws-id", "seed", "--json"]);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string; message?: string });
    expect(events.at(-1)?.type).toBe("run-end");
    // Whatever this machine's load is now, a note about it is a warning event naming max_workers "auto".
    for (const e of events.filter((x) => x.type === "warning" && x.message?.includes("load average"))) expect(e.message).toMatch(/max_workers "auto" (backs off|back up)/);
  });
});
