import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentProject, calls, cleanup, events, outcomes, readState, run, setPlan, tempDir, ws, type EventLine } from "./rig.js";

afterEach(cleanup);

const detailOf = (project: Parameters<typeof events>[0], step: string): string =>
  String(events(project).find((e: EventLine) => e.type === "step-end" && e.step === step)?.detail ?? "");

describe("agent failures a retry cannot fix", () => {
  it("auth: no retry, the tool's other steps are blocked at once with the fix, other tools go on", () => {
    const project = agentProject(
      {
        id: "ws-auth",
        execution: { max_workers: 1 },
        defaults: { retries: 2 },
        steps: [
          { id: "c1", tool: "claude", tasks: ["one"], file_scope: ["c1.txt"] },
          { id: "c2", tool: "claude", tasks: ["two"], file_scope: ["c2.txt"] },
          { id: "after", tool: "shell", run: "true", depends_on: ["c2"] },
          // c1 first (the longer path, so the critical-path order starts it before c2).
          { id: "c1-next", tool: "shell", run: "true", depends_on: ["c1"] },
          { id: "c1-last", tool: "shell", run: "true", depends_on: ["c1-next"] },
          { id: "k", tool: "codex", tasks: ["three"], file_scope: ["k.txt"] },
        ],
      },
      { plan: { claude: [{ auth: true }], codex: [{}] } },
    );
    const r = run(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toEqual({
      c1: ["failed", 1, "auth"],
      c2: ["blocked", 0, "auth"],
      after: ["blocked", 0, "auth"],
      "c1-next": ["blocked", 0, "blocked_by:c1"],
      "c1-last": ["blocked", 0, "blocked_by:c1"],
      k: ["passed", 1, "passed"],
    });
    expect(calls(project).filter((c) => c.tool === "claude")).toHaveLength(1);
    expect(detailOf(project, "c1")).toBe("claude reported an error: Invalid API key · Fix external API key");
    expect(detailOf(project, "c2")).toContain("ANTHROPIC_API_KEY");
    const status = ws(project, ["status", "--ws-id", project.wsId]);
    expect(status.stdout).toContain("auth: claude reported an error: Invalid API key");
    expect(status.stdout).not.toContain("claude success");
  });

  it.each(["codex", "gemini", "claude"])("network: %s's first unreachable-API line stops the attempt; no retry, its other steps not attempted, one message naming the host and how to resume", (tool) => {
    // Where ws looks for the host each CLI was pointed at: its base URL variable, codex's config.toml.
    const codexHome = tempDir("ws-codex-home-");
    fs.writeFileSync(path.join(codexHome, "config.toml"), 'openai_base_url = "http://127.0.0.1:9/v1"\n');
    const env = tool === "claude" ? { ANTHROPIC_BASE_URL: "http://127.0.0.1:9" } : tool === "gemini" ? { GOOGLE_GEMINI_BASE_URL: "http://ws-no-such-host.invalid" } : { CODEX_HOME: codexHome };
    const host = tool === "gemini" ? "ws-no-such-host.invalid" : "127.0.0.1:9";
    const project = agentProject(
      {
        id: `ws-net-${tool}`,
        execution: { max_workers: 1 },
        defaults: { retries: 2 },
        steps: [
          { id: "n1", tool, tasks: ["x"], file_scope: ["n1.txt"], timeout: 600, env },
          // n1 first: the longer path.
          { id: "n1-next", tool: "shell", run: "true", depends_on: ["n1"] },
          { id: "n2", tool, tasks: ["y"], file_scope: ["n2.txt"], timeout: 600, env },
          { id: "other", tool: tool === "codex" ? "claude" : "codex", tasks: ["z"], file_scope: ["o.txt"] },
        ],
      },
      { plan: { claude: [{}], codex: [{}], [tool]: [{ network: true }] } },
    );
    const r = run(project);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(outcomes(project)).toEqual({
      n1: ["failed", 1, "network"],
      "n1-next": ["blocked", 0, "blocked_by:n1"],
      n2: ["blocked", 0, "network"],
      other: ["passed", 1, "passed"],
    });
    expect(calls(project).filter((c) => c.tool === tool)).toHaveLength(1);
    // Stopped at the first line: the fakes of codex and gemini would print the next one 2 s later.
    const log = fs.readFileSync(path.join(project.stepDir("n1"), "attempt-1.log"), "utf8");
    if (tool !== "claude") expect(log.match(/waiting for network|fetch failed/g)).toHaveLength(1);
    expect(detailOf(project, "n1")).toMatch(new RegExp(`^could not reach ${host.replace(/\./g, "\\.")}: `));
    expect(detailOf(project, "n2")).toBe(`not attempted: ${tool} could not reach ${host} (step n1); when ${host} can be reached again, continue with: ws run --ws-id ws-net-${tool} --resume (or set circuit_breaker.network_wait to wait for it)`);
    const warnings = events(project).filter((e) => e.type === "warning" && String(e.message).includes("could not reach"));
    expect(warnings.map((e) => e.message)).toEqual([`${tool} could not reach ${host}: no step uses ${tool} for the rest of this run; when ${host} can be reached again, continue with: ws run --ws-id ws-net-${tool} --resume (or set circuit_breaker.network_wait to wait for it)`]);
    expect(r.stdout).toContain(`${tool} could not reach ${host}`);
    expect(r.stdout).toContain(`ws run --ws-id ws-net-${tool} --resume`);
  });

  it("network_wait: an unreachable API parks the tool (no retry spent), then one probe step; it passes once the network is back", () => {
    const project = agentProject(
      {
        id: "ws-net-wait",
        execution: { max_workers: 2 },
        circuit_breaker: { network_wait: 1 },
        steps: [
          { id: "k1", tool: "codex", tasks: ["x"], file_scope: ["k1.txt"], retries: 0 },
          { id: "k2", tool: "codex", tasks: ["y"], file_scope: ["k2.txt"], retries: 0, depends_on: ["k1"] },
        ],
      },
      { plan: { codex: [{ network: true }, {}] } },
    );
    const r = run(project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(outcomes(project)).toEqual({ k1: ["passed", 2, "passed"], k2: ["passed", 1, "passed"] });
    const first = events(project).find((e) => e.type === "attempt-end" && e.step === "k1");
    expect([first?.reason, first?.free]).toEqual(["network", true]);
    const breaker = events(project).filter((e) => e.type === "breaker" && e.tool === "codex").map((e) => e.state);
    expect(breaker).toEqual(["open", "half-open", "closed"]);
    expect(events(project).some((e) => e.type === "warning" && String(e.message).includes("could not reach"))).toBe(false);
  });

  it("a rate limit the CLI retries past the step timeout is quota (free attempt, breaker open), not timeout", () => {
    const retry = JSON.stringify({ type: "system", subtype: "api_retry", error: "rate_limit", error_status: 429, attempt: 4 }) + "\n";
    const project = agentProject(
      {
        id: "ws-slow-429",
        circuit_breaker: { cooldown: 1 },
        steps: [{ id: "c", tool: "claude", tasks: ["x"], file_scope: ["c.txt"], timeout: 2, retries: 0 }],
      },
      { plan: { claude: [{ bare: true, stdout: retry, hang: true }, {}] } },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    const first = events(project).find((e) => e.type === "attempt-end");
    expect([first?.reason, first?.free]).toEqual(["quota", true]);
    expect(events(project).some((e) => e.type === "breaker" && e.state === "open")).toBe(true);
    expect(outcomes(project)).toEqual({ c: ["passed", 2, "passed"] });
  });
});

describe("prompts and messages", () => {
  it("a 1 MiB prompt reaches claude, codex and gemini (stdin, not one argv element capped at 128 KiB)", () => {
    const big = "x".repeat(1024 * 1024);
    const project = agentProject({
      id: "ws-big",
      steps: ["claude", "codex", "gemini"].map((tool) => ({ id: tool, tool, tasks: [`Read this: ${big}`], file_scope: [`${tool}.txt`] })),
    });
    const r = run(project);
    expect(r.stderr).not.toContain("E2BIG");
    expect(r.code).toBe(0);
    for (const call of calls(project)) expect(call.prompt?.length ?? 0, call.tool).toBeGreaterThan(big.length);
  });

  it("aider with no model and no key is refused before it starts, naming the fix", () => {
    const project = agentProject({ id: "ws-aider-nokey", steps: [{ id: "a", tool: "aider", tasks: ["x"], file_scope: ["a.txt"] }] });
    const r = run(project, [], { ANTHROPIC_API_KEY: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no model and no API key");
    expect(r.stderr).toMatch(/"model".*AIDER_MODEL/s);
    expect(calls(project)).toEqual([]);
  });

  it("the retry prompt carries the tool's message, never its raw stream-json; a timeout names the last line", () => {
    const project = agentProject(
      {
        id: "ws-messages",
        circuit_breaker: { failure_threshold: 5, cooldown: 1 },
        steps: [
          { id: "c", tool: "claude", tasks: ["x"], file_scope: ["c.txt"], retries: 1 },
          { id: "t", tool: "gemini", tasks: ["y"], file_scope: ["t.txt"], timeout: 2, retries: 0 },
        ],
      },
      { plan: { claude: [{ apiError: true }, {}], gemini: [{ bare: true, stderr: "Editing t.txt: adding the header\n", hang: true }] } },
    );
    run(project);
    const second = calls(project).filter((c) => c.tool === "claude")[1];
    expect(second?.prompt).toContain("API Error: 500");
    // Not the stream: no init/assistant/result events, only the result's own text.
    expect(second?.prompt).not.toContain('"session_id"');
    expect(second?.prompt).not.toContain('"type":"result"');
    expect(outcomes(project).t).toEqual(["failed", 1, "timeout"]);
    expect(detailOf(project, "t")).toContain("Editing t.txt: adding the header");
    expect(ws(project, ["status", "--ws-id", project.wsId]).stdout).toContain("timeout: gemini timed out");
  });
});

describe("quota: parked until the reset the tool gives", () => {
  it("waits for the reset time (not the hour-long cooldown), spends no retry, then goes on", () => {
    const reset = Math.ceil(Date.now() / 1000) + 2;
    const project = agentProject(
      {
        id: "ws-reset",
        circuit_breaker: { cooldown: 3600 },
        steps: [{ id: "c", tool: "claude", tasks: ["x"], file_scope: ["c.txt"], retries: 0 }],
      },
      { plan: { claude: [{ quota: true, resetEpoch: reset }, {}] } },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("waiting (quota, until");
    const [first, second] = events(project).filter((e) => e.type === "attempt-end");
    expect(first?.free).toBe(true);
    expect(first?.resetAt).toBe(new Date(reset * 1000).toISOString());
    expect(second?.passed).toBe(true);
    const starts = events(project).filter((e) => e.type === "step-start");
    expect(Date.parse(String(starts[1]?.at))).toBeGreaterThanOrEqual(reset * 1000);
  });

  it("past circuit_breaker.max_wait the run ends (exit 1, state kept, shown as waiting) and --resume continues", () => {
    const reset = Math.ceil(Date.now() / 1000) + 3600;
    const project = agentProject(
      {
        id: "ws-max-wait",
        circuit_breaker: { max_wait: 1 },
        steps: [
          { id: "c", tool: "claude", tasks: ["x"], file_scope: ["c.txt"] },
          { id: "s", tool: "shell", run: "true" },
        ],
      },
      { plan: { claude: [{ quota: true, resetEpoch: reset }] } },
    );
    const r = run(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toEqual({ c: ["cancelled", 1, "quota"], s: ["passed", 1, "passed"] });
    expect(detailOf(project, "c")).toMatch(/^waiting \(quota, until \d\d:\d\d\)/);
    expect(ws(project, ["status", "--ws-id", project.wsId]).stdout).toContain("quota: waiting (quota, until");

    setPlan(project, { claude: [{}] });
    const resumed = run(project, ["--resume"]);
    expect(resumed.code).toBe(0);
    expect(outcomes(project).c).toEqual(["passed", 2, "passed"]);
  });

  it("a step with fallbacks runs on the next tool while the first is parked", () => {
    const project = agentProject(
      { id: "ws-fallback", steps: [{ id: "f", tool: ["claude", "codex"], tasks: ["x"], file_scope: ["f.txt"], acceptance_tests: ["grep -q ok f.txt"] }] },
      { plan: { claude: [{ quota: true, resetEpoch: Math.ceil(Date.now() / 1000) + 3600 }], codex: [{ write: { path: "f.txt", content: "ok\n" } }] } },
    );
    const r = run(project);
    expect(r.code).toBe(0);
    expect(events(project).filter((e) => e.type === "step-start").map((e) => e.tool)).toEqual(["claude", "codex"]);
    expect(calls(project).map((c) => c.tool)).toEqual(["claude", "codex"]);
    expect(readState(project).steps.f?.commit).toBeTruthy();
  });
});

describe("budgets", () => {
  it("claude gets --max-turns and --max-budget-usd from the step's budget", () => {
    const project = agentProject({
      id: "ws-budget-flags",
      steps: [{ id: "c", tool: "claude", tasks: ["x"], file_scope: ["c.txt"], budget: { max_turns: 3, max_cost_usd: 0.5 } }],
    });
    expect(run(project).code).toBe(0);
    const argv = calls(project)[0]?.argv ?? [];
    expect(argv.slice(argv.indexOf("--max-turns"), argv.indexOf("--max-turns") + 4)).toEqual(["--max-turns", "3", "--max-budget-usd", "0.5"]);
  });

  it("a step over its token budget is not retried (reason budget); a spent workstream budget starts no more agent steps", () => {
    const project = agentProject(
      {
        id: "ws-budget",
        execution: { max_workers: 1 },
        budget: { max_cost_usd: 0.02 },
        steps: [
          { id: "a", tool: "claude", tasks: ["a"], file_scope: ["a.txt"], retries: 3, budget: { max_tokens: 1000 }, acceptance_tests: ["false"] },
          // A longer path behind a, so the critical-path order starts a first.
          { id: "a1", tool: "shell", run: "true", depends_on: ["a"] },
          { id: "a2", tool: "shell", run: "true", depends_on: ["a1"] },
          { id: "a3", tool: "shell", run: "true", depends_on: ["a2"] },
          { id: "b", tool: "claude", tasks: ["b"], file_scope: ["b.txt"], depends_on: [] },
          { id: "c", tool: "claude", tasks: ["c"], file_scope: ["c.txt"], depends_on: ["b"] },
          { id: "s", tool: "shell", run: "true", depends_on: ["c"] },
        ],
      },
      { plan: { claude: [{ cost: 0.015 }] } },
    );
    const r = run(project);
    expect(r.code).toBe(1);
    const o = outcomes(project);
    expect(o.a).toEqual(["failed", 1, "budget"]);
    expect(detailOf(project, "a")).toContain("over the step's budget of 1000");
    // a and b spent $0.03 of $0.02: c never starts, and s behind it is blocked.
    expect(o.b).toEqual(["passed", 1, "passed"]);
    expect(o.c).toEqual(["cancelled", 0, "budget"]);
    expect(o.s?.[0]).not.toBe("passed");
    expect(detailOf(project, "c")).toContain("workstream's budget of $0.02 is spent");
    expect(calls(project)).toHaveLength(2);
    expect(fs.existsSync(path.join(project.dir, "c.txt"))).toBe(false);
  });
});
