import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, removeTempProjects, tempProject, ws } from "../helpers/cli.js";

/**
 * A huge workstream: past the ~125 000 arguments a function call takes on Node's default stack,
 * `ws run` (one env per step spread into a call) and `ws graph` (Math.max over every name) ended in
 * "Maximum call stack size exceeded", exit 70, at 150 000 steps. ws runs here with a 150 KB stack
 * (`--stack-size`, default 984): that limit is then ~19 000 arguments, so 30 000 steps meet the
 * same failure (the build before the fix: exit 70 for both, on Node 20 and 24) at a fifth of the
 * cost. Nothing here is timed.
 */
const STEPS = 30_000;

afterAll(() => removeTempProjects());

describe(`a workstream of ${STEPS.toLocaleString("en-US")} steps`, () => {
  const workstream = {
    id: "huge",
    steps: Array.from({ length: STEPS }, (_, i) => (i === 0 ? { id: "s0", run: "true" } : { id: `s${i}`, run: "true", depends_on: [`s${i - 1}`] })),
  };
  const dir = tempProject("ws-huge-", [workstream]);
  const call = { cwd: dir, env: cleanEnv(), timeoutMs: 100_000, nodeArgs: ["--stack-size=150"] };

  it("runs one selected step, then draws the graph and the status of that run", () => {
    const run = ws(["run", "--ws-id", "huge", "--only", "s0", "--quiet"], call);
    expect(run.stderr).not.toContain("internal error");
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const graph = ws(["graph", "--ws-id", "huge", "--no-color"], call);
    expect(graph.stderr).not.toContain("internal error");
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stdout).toContain(`s${STEPS - 1}`);

    const status = ws(["status", "--ws-id", "huge"], call);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`1/${STEPS} passed`);
  });
});
