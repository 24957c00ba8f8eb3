import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentProject, cleanup, events, FAKE_TOOLS, outcomes, run, ws, type AgentProject, type EventLine } from "./rig.js";
import { startWs } from "../helpers/cli.js";
import { waitFor } from "../proc/helpers.js";
import { reapGroups } from "../../src/store/group-registry.js";

afterEach(cleanup);

/**
 * What each agent's stream becomes while it runs: activity events, in order, in `--json` and in
 * events.jsonl; and budgets enforced from the usage streamed so far. The fakes print each CLI's
 * own streaming format (test/fixtures/tools/, `stream` actions); `<log>.stream` marks each call
 * done, so a stopped one shows how far it got without any timing.
 */

const CALLS = [{ read: "README.md" }, { edit: "src/a.ts" }, { command: "npm test" }, { say: "All done here" }];

/** Per tool: the activity each of CALLS becomes (kind, text). */
const EXPECTED: Record<string, Array<[string, string]>> = {
  claude: [["read", "Read README.md"], ["edit", "Edit src/a.ts"], ["command", "Bash: npm test"], ["message", "All done here"]],
  codex: [["command", "$ bash -lc 'cat README.md'"], ["edit", "Edit src/a.ts"], ["command", "$ npm test"], ["message", "All done herexxxxxxxxxx"]],
  gemini: [["read", "read_file README.md"], ["edit", "Edit src/a.ts"], ["command", "Shell: npm test"], ["message", "All done here"]],
  aider: [["read", "Added README.md"], ["edit", "Edit src/a.ts"], ["command", "$ npm test"]],
  "custom-agent": [["output", "[1] reading README.md"], ["output", "[2] editing src/a.ts"], ["output", "[3] running npm test"], ["output", "[4] All done here"]],
};

const TOOLS = Object.keys(EXPECTED);

/** A step of `tool` (custom-agent is a `tools` entry), with what the fakes should do. */
function project(id: string, tool: string, action: object, step: Record<string, unknown> = {}, top: Record<string, unknown> = {}): AgentProject {
  return agentProject(
    {
      id,
      ...(tool === "custom-agent" ? { tools: { "custom-agent": { command: "custom-agent", args: ["{prompt_file}"] } } } : {}),
      ...top,
      steps: [{ id: "s", tool, tasks: ["work"], file_scope: ["src/a.ts"], retries: 2, ...step }],
    },
    { plan: { [tool]: [action] } },
  );
}

const activities = (lines: EventLine[]) => lines.filter((e) => e.type === "activity").map((e) => [String(e.kind), String(e.text)]);

function marks(p: AgentProject, tool: string): string[] {
  const file = `${p.log}.stream`;
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith(`${tool} `)) : [];
}

describe("activity from each agent's stream", () => {
  it.each(TOOLS)("%s: its tool calls become activity events, in order, in --json and in events.jsonl", (tool) => {
    const p = project(`ws-act-${tool}`, tool, { stream: { calls: CALLS, tokens: { input: 100, output: 10 } } });
    const r = run(p, ["--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const printed = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as EventLine);
    // A final answer may follow the calls (the fake's own "Done."); the calls come first, in order.
    expect(activities(printed).slice(0, EXPECTED[tool]!.length)).toEqual(EXPECTED[tool]);
    expect(activities(events(p)).slice(0, EXPECTED[tool]!.length)).toEqual(EXPECTED[tool]);
    // Every activity belongs to the attempt and comes between its start and its end.
    const trail = events(p).map((e) => e.type);
    expect(trail.indexOf("step-start")).toBeLessThan(trail.indexOf("activity"));
    expect(trail.lastIndexOf("activity")).toBeLessThan(trail.indexOf("attempt-end"));
  });

  it.each(["claude", "aider"])("%s: each activity carries the usage streamed so far, growing", (tool) => {
    const p = project(`ws-act-usage-${tool}`, tool, { stream: { calls: CALLS.slice(0, 3), tokens: { input: 1000, output: 100 }, cost: 0.01 } });
    expect(run(p).code).toBe(0);
    const tokens = events(p).filter((e) => e.type === "activity").map((e) => {
      const u = e.usage as { inputTokens?: number; outputTokens?: number } | undefined;
      return (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0);
    });
    // Claude's call reports its usage with the tool_use itself; aider's after the edit line.
    // aider ends by naming the files it was given ("Added src/a.ts to the chat.").
    expect(tokens).toEqual(tool === "claude" ? [1100, 2200, 3300, 3300] : [0, 1100, 2200, 3300]);
  });

  it("a chatty agent is paced: hundreds of calls make a bounded number of events, the last one kept", () => {
    const p = project("ws-act-chatty", "claude", { stream: { calls: [{ edit: "src/a.ts" }, { command: "true" }], repeat: 200 } });
    expect(run(p).code).toBe(0);
    expect(marks(p, "claude")).toHaveLength(401);
    const acts = events(p).filter((e) => e.type === "activity");
    // 400 calls, all within a second or two: the burst, one per half second, the final one.
    expect(acts.length).toBeLessThan(20);
    expect(acts.at(-1)?.text).toBe("Done.");
  });

  it("a shell step's activity is its last output line, read from its log while it runs", () => {
    // The step waits (without a sleep) until ws has reported its line: the marker is the event itself.
    const p = agentProject({
      id: "ws-act-shell",
      steps: [{ id: "sh", tool: "shell", run: "echo 'compiling module 1'; echo 'compiling module 2'; i=0; until grep -q 'compiling module 2' .worktrees/ws-act-shell/events.jsonl 2>/dev/null || [ $i -ge 600 ]; do i=$((i+1)); sleep 0.05; done" }],
      execution: { isolation: "none" },
    }, { git: false });
    expect(run(p).code).toBe(0);
    expect(activities(events(p))).toEqual([["output", "compiling module 2"]]);
  });

  it("ws status after a kill -9 still shows the interrupted step's last activity", async () => {
    // The agent thinks for a long while after its edit; ws is killed once the edit is recorded.
    const p = project("ws-act-kill", "claude", { stream: { calls: [{ read: "README.md" }, { edit: "src/a.ts", waitMs: 60_000 }, { say: "never said" }] } });
    const running = startWs(["run", "--ws-id", p.wsId], { cwd: p.dir, env: { ...process.env, PATH: `${FAKE_TOOLS}${path.delimiter}${process.env.PATH ?? ""}`, FAKE_TOOL_LOG: p.log, FAKE_TOOL_PLAN: p.plan, CI: "1" } });
    const journal = path.join(p.state, "events.jsonl");
    await waitFor(() => (fs.existsSync(journal) && fs.readFileSync(journal, "utf8").includes('"text":"Edit src/a.ts"') ? true : undefined));
    running.child.kill("SIGKILL");
    await running.done;
    // The agent outlives a kill -9 of ws (its own process group): end it, as a resume would.
    reapGroups(path.join(p.state, "groups.log"));
    const status = ws(p, ["status", "--ws-id", p.wsId]);
    expect(status.stdout).toContain("the run was interrupted");
    expect(status.stdout).toMatch(/last activity of the interrupted steps:\n {2}s was at \(attempt 1, \d\d:\d\d:\d\d\): Edit src\/a\.ts · \$0\.\d{4} 2,200 tok/);
    const json = JSON.parse(ws(p, ["status", "--ws-id", p.wsId, "--json"]).stdout) as { steps: Record<string, { activity?: { kind: string; text: string } }> };
    expect(json.steps.s?.activity).toMatchObject({ kind: "edit", text: "Edit src/a.ts" });
  });
});

describe("budgets stop an attempt mid-way, from the usage it streams", () => {
  // Each fake would make 300 calls, 50 ms apart (15 s): stopped after a few, it never reaches "done".
  const RUNAWAY = { stream: { calls: [{ edit: "src/a.ts" }, { command: "npm test" }], repeat: 150, delayMs: 50, tokens: { input: 1000, output: 200 }, cost: 0.05, pad: 4000 } };

  it.each(TOOLS.filter((t) => t !== "custom-agent"))("%s: max_tokens stops it at once, reason budget, no retry, its edit kept as the leftover patch", (tool) => {
    const p = project(`ws-bud-tok-${tool}`, tool, { ...RUNAWAY, write: { path: "src/a.ts", content: "half done\n" } }, { budget: { max_tokens: 5000 } });
    const r = run(p);
    expect(r.code).toBe(1);
    expect(outcomes(p).s).toEqual(["failed", 1, "budget"]);
    const calls = marks(p, tool);
    expect(calls).not.toContain(`${tool} done`);
    expect(calls.length).toBeLessThan(50);
    const end = events(p).find((e) => e.type === "step-end");
    expect(String(end?.detail)).toMatch(/tokens is over the step's budget of 5000 tokens \(by \d+ tokens, \d+ %\)/);
    expect(fs.readFileSync(path.join(p.stepDir("s"), "attempt-1.leftover.patch"), "utf8")).toContain("+half done");
  });

  it.each(TOOLS.filter((t) => t !== "custom-agent"))("%s: max_cost_usd stops it at once (the CLI's cost, else the price table's), reason budget, no retry", (tool) => {
    const p = project(`ws-bud-cost-${tool}`, tool, RUNAWAY, { budget: { max_cost_usd: 0.1 }, ...(tool === "codex" ? { model: "gpt-5" } : {}) });
    const r = run(p);
    expect(r.code).toBe(1);
    expect(outcomes(p).s).toEqual(["failed", 1, "budget"]);
    expect(marks(p, tool)).not.toContain(`${tool} done`);
    expect(marks(p, tool).length).toBeLessThan(50);
    expect(String(events(p).find((e) => e.type === "step-end")?.detail)).toMatch(/^\$0\.\d{4} is over the step's budget of \$0\.1000 \(by \$0\.\d{4}, \d+ %\)/);
  });

  it("past the run's budget, a quiet running step (an agent thinking, no line) is stopped too", () => {
    const p = agentProject(
      {
        id: "ws-bud-quiet",
        execution: { max_workers: 2 },
        budget: { max_tokens: 12_000 },
        steps: [
          { id: "spender", tool: "claude", tasks: ["a"], file_scope: ["a.txt"], retries: 2 },
          { id: "thinker", tool: "codex", tasks: ["b"], file_scope: ["b.txt"], retries: 2 },
        ],
      },
      {
        plan: {
          // The spender starts spending once the thinker has made its call and gone quiet for a minute.
          claude: [{ stream: { calls: [{ waitForMark: "codex 1", edit: "a.txt" }, ...Array.from({ length: 300 }, () => ({ edit: "a.txt" }))], delayMs: 20, tokens: { input: 1000, output: 200 } } }],
          codex: [{ stream: { calls: [{ command: "npm test", waitMs: 60_000 }, { command: "never run" }] } }],
        },
      },
    );
    expect(run(p).code).toBe(1);
    expect(outcomes(p)).toEqual({ spender: ["failed", 1, "budget"], thinker: ["failed", 1, "budget"] });
    expect(marks(p, "codex")).toEqual(["codex 1"]);
    const detail = events(p).find((e) => e.type === "step-end" && e.step === "thinker")?.detail;
    expect(String(detail)).toContain("over the workstream's budget of 12000 tokens");
  });

  it("the run's budget counts every running step: two agents together past it are both stopped", () => {
    const p = agentProject(
      {
        id: "ws-bud-run",
        execution: { max_workers: 2 },
        budget: { max_tokens: 12_000 },
        steps: [
          { id: "a", tool: "claude", tasks: ["a"], file_scope: ["a.txt"], retries: 2 },
          { id: "b", tool: "claude", tasks: ["b"], file_scope: ["b.txt"], retries: 2 },
        ],
      },
      { plan: { claude: [{ stream: { calls: [{ edit: "a.txt" }], repeat: 300, delayMs: 50, tokens: { input: 1000, output: 200 } } }] } },
    );
    expect(run(p).code).toBe(1);
    const o = outcomes(p);
    expect(o.a).toEqual(["failed", 1, "budget"]);
    expect(o.b).toEqual(["failed", 1, "budget"]);
    // Alone, each would stop only after 10 of its calls: together the run's budget ends them sooner.
    expect(marks(p, "claude").length).toBeLessThan(2 * 10 + 4);
    expect(events(p).some((e) => e.type === "step-end" && String(e.detail).includes("over the workstream's budget of 12000 tokens"))).toBe(true);
    expect(ws(p, ["status", "--ws-id", p.wsId]).stdout).toContain("over the workstream's budget");
  });
});
