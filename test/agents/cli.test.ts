import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_TOOLS, agentProject, calls, cleanup, events, outcomes, readState, run, ws } from "./rig.js";

afterEach(cleanup);

const TOOLS_WS = {
  id: "ws-needs-tools",
  name: "needs tools",
  execution: { max_workers: 1 },
  steps: [
    // First in file order: if anything started before the check, this marker would exist.
    { id: "prep", tool: "shell", run: "touch prep-ran", file_scope: ["prep-ran"] },
    { id: "c1", tool: "claude", tasks: ["c1"], file_scope: ["c1.txt"] },
    { id: "c2", tool: "claude", tasks: ["c2"], file_scope: ["c2.txt"], depends_on: ["prep"] },
    { id: "x1", tool: "codex", tasks: ["x1"], file_scope: ["x1.txt"] },
    { id: "a1", tool: "aider", tasks: ["a1"], file_scope: ["a1.txt"] },
  ],
};

describe("agent steps through ws run: tools", () => {
  it("a tool missing when the run starts is an error before any step runs (exit 2), listing the steps that need it", () => {
    const project = agentProject(TOOLS_WS);
    // The fakes are not on PATH; aider is found through WS_AIDER_BIN, claude's override points nowhere.
    const r = run(project, [], { PATH: process.env.PATH, WS_AIDER_BIN: path.join(FAKE_TOOLS, "aider"), WS_CLAUDE_BIN: "/nonexistent/claude" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('claude (looked for "/nonexistent/claude") is needed by: c1, c2');
    expect(r.stderr).toContain('codex (looked for "codex") is needed by: x1');
    expect(r.stderr).not.toMatch(/aider|shell/);
    expect(r.stderr).toMatch(/WS_CLAUDE_BIN=/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe("");
    expect(fs.existsSync(path.join(project.dir, "prep-ran"))).toBe(false);
    expect(fs.existsSync(path.join(project.state, "events.jsonl"))).toBe(false);
    expect(calls(project)).toEqual([]);
  });

  it("WS_<TOOL>_BIN points a step at a binary that is not on PATH", () => {
    const project = agentProject(TOOLS_WS);
    const env = { PATH: process.env.PATH };
    for (const tool of ["aider", "claude", "codex"]) Object.assign(env, { [`WS_${tool.toUpperCase()}_BIN`]: path.join(FAKE_TOOLS, tool) });
    const r = run(project, [], env);
    expect(r.code).toBe(0);
    expect(calls(project).map((c) => c.tool).sort()).toEqual(["aider", "claude", "claude", "codex"]);
  });
});

describe("agent steps through ws run: cost and tokens", () => {
  it("the run summary and ws status show each step's cost and tokens (summed over attempts) and the total", () => {
    const project = agentProject(
      {
        id: "ws-cost",
        name: "cost",
        execution: { max_workers: 1 },
        steps: [
          { id: "c", tool: "claude", tasks: ["c"], file_scope: ["c.txt"] },
          { id: "a", tool: "aider", tasks: ["a"], file_scope: ["a.txt"], retries: 1, acceptance_tests: ["grep -q good a.txt"] },
          { id: "x", tool: "codex", tasks: ["x"], file_scope: ["x.txt"] },
          { id: "g", tool: "gemini", tasks: ["g"], file_scope: ["g.txt"] },
        ],
      },
      {
        plan: {
          claude: [{ cost: 0.5, tokens: { input: 1000, output: 200 } }],
          aider: [{ cost: 0.25, write: { path: "a.txt", content: "bad\n" } }, { cost: 0.5, write: { path: "a.txt", content: "good\n" } }],
          codex: [{ tokens: { input: 1200, output: 345 } }],
          gemini: [{ tokens: { input: 5000, output: 400 } }],
        },
      },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    expect(outcomes(project)).toEqual({ c: ["passed", 1, "passed"], a: ["passed", 2, "passed"], x: ["passed", 1, "passed"], g: ["passed", 1, "passed"] });
    const usage = Object.fromEntries(Object.entries(readState(project).steps).map(([id, s]) => [id, s.usage]));
    expect(usage).toEqual({
      c: { costUsd: 0.5, inputTokens: 1000, outputTokens: 200, turns: 3 },
      // aider prints "2.3k sent, 150 received" per attempt; two attempts.
      a: { costUsd: 0.75, inputTokens: 4600, outputTokens: 300 },
      // codex and gemini report tokens, no cost: gemini's model (its init event names
      // gemini-2.5-pro) is priced by ws's table (src/tools/prices.ts), codex's (none given) is not.
      x: { inputTokens: 1200, outputTokens: 345, turns: 1 },
      g: { inputTokens: 5000, outputTokens: 400, costUsd: expect.closeTo(5000 * 1.25e-6 + 400 * 10e-6, 9) as number },
    });

    // The events say the same (what --json consumers and the reports read).
    const stepEnds = events(project).filter((e) => e.type === "step-end");
    expect(Object.fromEntries(stepEnds.map((e) => [e.step, e.usage]))).toEqual(usage);

    const status = ws(project, ["status", "--ws-id", project.wsId]);
    expect(status.code).toBe(0);
    for (const text of [r.stdout, status.stdout]) {
      expect(text).toMatch(/cost\/tokens/);
      expect(text).toMatch(/│ c\s.*\$0\.5000 1,200 tok/);
      expect(text).toMatch(/│ a\s.*\$0\.7500 4,900 tok/);
      expect(text).toMatch(/│ x\s.*│ 1,545 tok/);
      expect(text).toMatch(/│ g\s.*│ \$0\.0102 5,400 tok/);
      expect(text).toContain("total cost/tokens: $1.26 13,045 tok");
    }
    const json = JSON.parse(ws(project, ["status", "--ws-id", project.wsId, "--json"]).stdout) as { steps: Record<string, { usage?: unknown }> };
    expect(json.steps.a?.usage).toEqual(usage.a);
  });
});
