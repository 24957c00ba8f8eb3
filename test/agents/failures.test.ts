import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentProject, calls, cleanup, events, filesOf, git, outcomes, readState, run, trace, ws } from "./rig.js";

afterEach(cleanup);

const starts = (e: { type: string }) => e.type === "step-start" || e.type === "step-end" || e.type === "breaker";

describe("agent steps through ws run: retries", () => {
  it("a retry's prompt carries the failing acceptance output, through argv (claude) and a prompt file (aider), inert", () => {
    // The failing test prints a longer fence and a command substitution: neither may escape the prompt or run.
    const check = (file: string) => `grep -qx good ${file} || { echo "${file} says $(cat ${file}), want good"; echo '\`\`\`\` $(touch pwned-feedback)'; exit 1; }`;
    const project = agentProject(
      {
        id: "ws-retry",
        name: "retry feedback",
        execution: { max_workers: 2 },
        defaults: { retries: 1 },
        steps: [
          { id: "c", tool: "claude", description: "Claude writes c", tasks: ["Write good into out-c.txt"], file_scope: ["out-c.txt"], acceptance_tests: [check("out-c.txt")] },
          { id: "a", tool: "aider", description: "Aider writes a", tasks: ["Write good into out-a.txt"], file_scope: ["out-a.txt"], acceptance_tests: [check("out-a.txt")] },
        ],
      },
      {
        plan: {
          claude: [{ write: { path: "out-c.txt", content: "bad\n" } }, { write: { path: "out-c.txt", content: "good\n" } }],
          aider: [{ write: { path: "out-a.txt", content: "bad\n" } }, { write: { path: "out-a.txt", content: "good\n" } }],
        },
      },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    expect(outcomes(project)).toEqual({ c: ["passed", 2, "passed"], a: ["passed", 2, "passed"] });

    for (const [tool, file] of [["claude", "out-c.txt"], ["aider", "out-a.txt"]] as const) {
      const [first, second] = calls(project).filter((c) => c.tool === tool);
      expect(first?.prompt, tool).not.toContain("Previous attempt failed");
      expect(second?.prompt, tool).toContain("## Previous attempt failed");
      expect(second?.prompt, tool).toContain("This is attempt 2");
      expect(second?.prompt, tool).toContain(`${file} says bad, want good`);
      expect(second?.prompt, tool).toContain("```` $(touch pwned-feedback)");
      // The commit holds the fixed file.
      const commit = readState(project).steps[tool === "claude" ? "c" : "a"]?.commit ?? "";
      expect(filesOf(project.dir, commit)).toEqual([file]);
      expect(git(project.dir, "show", `${commit}:${file}`)).toBe("good");
    }
    // aider read the retry from its prompt file, kept under the state folder.
    expect(fs.readFileSync(path.join(project.stepDir("a"), "prompt-2.md"), "utf8")).toContain("out-a.txt says bad, want good");
    expect(fs.readdirSync(project.dir, { recursive: true }).map(String).filter((f) => f.includes("pwned"))).toEqual([]);
  });

  it("exit 0 with an API error (claude is_error) is a failed attempt: retried, or the step fails", () => {
    const project = agentProject(
      {
        id: "ws-api-error",
        name: "api error",
        // One at a time in file order, so the plan's invocations map to known steps.
        execution: { max_workers: 1 },
        circuit_breaker: { failure_threshold: 5, cooldown: 1 },
        steps: [
          { id: "once", tool: "claude", tasks: ["x"], file_scope: ["once.txt"], retries: 0 },
          { id: "twice", tool: "claude", tasks: ["y"], file_scope: ["twice.txt"], retries: 1 },
          // aider also exits 0 after a failed API call: its litellm error lines are what count.
          { id: "aider-api", tool: "aider", tasks: ["z"], file_scope: ["z.txt"], retries: 0 },
        ],
      },
      { plan: { claude: [{ apiError: true }, { apiError: true }, { cost: 0.25 }], aider: [{ apiError: true }] } },
    );
    const r = run(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toEqual({ once: ["failed", 1, "tool_error"], twice: ["passed", 2, "passed"], "aider-api": ["failed", 1, "tool_error"] });
    const ends = events(project).filter((e) => e.type === "attempt-end");
    expect(ends.map((e) => [e.step, e.attempt, e.reason, e.exitCode])).toEqual([
      ["once", 1, "tool_error", 0],
      ["twice", 1, "tool_error", 0],
      ["twice", 2, "passed", 0],
      ["aider-api", 1, "tool_error", 0],
    ]);
    expect(String(ends[3]?.detail)).toContain("litellm.APIError");
    expect(String(ends[0]?.detail)).toContain("API Error: 500");
    expect(r.stdout).toMatch(/once\s.*failed.*tool_error/);
  });
});

describe("agent steps through ws run: circuit breaker", () => {
  it("opens after the threshold, lets other tools run, half-opens after the cooldown, reopens on a failed trial, closes on success", () => {
    const claudeStep = (id: string) => ({ id, tool: "claude", tasks: [id], file_scope: [`${id}.txt`] });
    const project = agentProject(
      {
        id: "ws-breaker",
        name: "breaker",
        // One worker: the breaker is only asked when a worker is free, so the event order is exact.
        execution: { max_workers: 1 },
        defaults: { retries: 0 },
        // A cooldown well past one step's set-up (its worktree, the checks around it) on a loaded machine.
        circuit_breaker: { failure_threshold: 2, cooldown: 4 },
        steps: [...["c1", "c2", "c3", "c4", "c5"].map(claudeStep), { id: "a1", tool: "aider", tasks: ["a1"], file_scope: ["a1.txt"] }],
      },
      { plan: { claude: [{ apiError: true }, { apiError: true }, { apiError: true }, {}] } },
    );
    const r = run(project);
    expect(r.code).toBe(1);
    expect(trace(project, starts)).toEqual([
      "step-start c1#1",
      "step-end c1 failed tool_error",
      "step-start c2#1",
      "step-end c2 failed tool_error",
      "breaker claude open",
      // claude's queue waits; aider's does not.
      "step-start a1#1",
      "step-end a1 passed passed",
      "breaker claude half-open",
      "step-start c3#1",
      "step-end c3 failed tool_error",
      "breaker claude open",
      "breaker claude half-open",
      "step-start c4#1",
      "step-end c4 passed passed",
      "breaker claude closed",
      "step-start c5#1",
      "step-end c5 passed passed",
    ]);
    expect(readState(project).breakers.claude?.state).toBe("closed");
    // A breaker line in the run's output too.
    expect(r.stdout).toMatch(/claude.*open/);
  });

  it("a quota answer does not spend a retry: the step is tried again (after the breaker's pause) and passes", () => {
    const project = agentProject(
      {
        id: "ws-quota",
        name: "quota",
        execution: { max_workers: 1 },
        // A threshold the two quota answers never reach: the pauses come from the quota alone.
        circuit_breaker: { failure_threshold: 5, cooldown: 1 },
        steps: [{ id: "q", tool: "claude", tasks: ["q"], file_scope: ["q.txt"], retries: 0 }],
      },
      { plan: { claude: [{ quota: true }, { quota: true }, { write: { path: "q.txt", content: "done\n" } }] } },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    expect(outcomes(project)).toEqual({ q: ["passed", 3, "passed"] });
    // Every quota answer pauses the tool at once (tools.md): no attempt starts before the cooldown.
    expect(trace(project)).toEqual([
      "step-start q#1",
      "attempt-end q#1 quota free",
      "breaker claude open",
      "breaker claude half-open",
      "step-start q#2",
      "attempt-end q#2 quota free",
      "breaker claude open",
      "breaker claude half-open",
      "step-start q#3",
      "attempt-end q#3 passed",
      "step-end q passed passed",
      "breaker claude closed",
    ]);
    expect(calls(project)).toHaveLength(3);
  });

  it("on_failure stop: nothing new starts; a queued step of the open-breaker tool ends circuit_open, others cancelled", () => {
    const project = agentProject(
      {
        id: "ws-stop",
        name: "stop",
        // A cooldown nobody waits for: under "stop" the run ends without sitting it out.
        execution: { max_workers: 1, on_failure: "stop" },
        defaults: { retries: 0 },
        circuit_breaker: { failure_threshold: 1, cooldown: 3600 },
        steps: [
          { id: "c1", tool: "claude", tasks: ["c1"], file_scope: ["c1.txt"] },
          { id: "c2", tool: "claude", tasks: ["c2"], file_scope: ["c2.txt"] },
          { id: "a1", tool: "aider", tasks: ["a1"], file_scope: ["a1.txt"] },
        ],
      },
      { plan: { claude: [{ apiError: true }] } },
    );
    const r = run(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toEqual({
      c1: ["failed", 1, "tool_error"],
      c2: ["cancelled", 0, "circuit_open"],
      a1: ["cancelled", 0, "cancelled"],
    });
    expect(calls(project).map((c) => c.tool)).toEqual(["claude"]);
    const status = ws(project, ["status", "--ws-id", project.wsId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/c2\s.*cancelled.*circuit_open/);
  });
});
