import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempProjects, tempProjectOf, ws as runWs } from "../helpers/cli.js";

function ws(args: string[], cwd: string) {
  return runWs(args, { cwd, env: { PATH: process.env.PATH, NO_COLOR: "1" } });
}

const project = (files: Record<string, string>): string => tempProjectOf("ws-list-", files);
afterAll(() => removeTempProjects());

describe("ws list (built binary)", () => {
  const files = {
    "workstreams/alpha.json": JSON.stringify({ id: "alpha", name: "Alpha", steps: [{ id: "a", run: "x" }, { id: "b", run: "y", depends_on: ["a"] }] }),
    "workstreams/beta.yaml": "id: beta\nname: Beta\nsteps:\n  - id: a\n    run: x\n    retries: lots\n",
    "workstreams/gamma.json": "{ not json",
    // A snapshot as the store writes it (ws list reads runs through the store's query layer).
    ".worktrees/alpha/state.json": JSON.stringify({ version: 1, runId: "r1", wsId: "alpha", status: "passed", pid: 1, order: ["a", "b"], steps: {} }),
  };

  it("--json gives id, name, step count, validity and the last run", () => {
    const r = ws(["list", "--json"], project(files));
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { workstreams: Array<Record<string, unknown>> };
    expect(parsed.workstreams).toEqual([
      { id: "alpha", name: "Alpha", file: path.join("workstreams", "alpha.json"), steps: 2, valid: true, errors: 0, warnings: 0, lastRun: "passed" },
      { id: "beta", name: "Beta", file: path.join("workstreams", "beta.yaml"), steps: 1, valid: false, errors: 1, warnings: 0 },
      { id: "gamma", name: "", file: path.join("workstreams", "gamma.json"), valid: false, errors: 1, warnings: 0 },
    ]);
  });

  it("prints a table", () => {
    const r = ws(["list"], project(files));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STEPS\s+VALIDITY\s+LAST RUN$/);
    expect(lines[1]).toMatch(/^alpha\s+Alpha\s+2\s+valid\s+passed$/);
    expect(lines[2]).toMatch(/^beta\s+Beta\s+1\s+invalid \(1 error\)\s+-$/);
    expect(r.stderr).toContain("ws validate");
  });

  it("says how to start when there are no workstreams", () => {
    const r = ws(["list"], project({}));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("ws init");
    expect(JSON.parse(ws(["list", "--json"], project({})).stdout)).toEqual({ workstreams: [] });
  });
});
