import { describe, expect, it } from "vitest";
import { adapterFor } from "../../src/tools/registry.js";
import type { ToolVerdict } from "../../src/tools/types.js";
import { exited, fakeEnv, feed, makeContext, makeStep, makeWorkstream, runTool } from "./helpers.js";

function verdictOf(tool: string, stdout: string, code: number, stderr = ""): ToolVerdict {
  const step = makeStep({ tool });
  const ws = makeWorkstream([step], { tools: { custom: { command: "custom", args: [], env: {} } } });
  return feed(adapterFor(ws, tool).parser(makeContext(step, { ws })), { stdout, stderr, exit: exited(code) });
}

const jsonl = (...events: unknown[]) => events.map((e) => JSON.stringify(e)).join("\n") + "\n";

describe("claude parser", () => {
  const result = (fields: Record<string, unknown>) => ({ type: "result", subtype: "success", is_error: false, num_turns: 2, result: "Done.", ...fields });

  it("an is_error result with exit 0 is an error", () => {
    const v = verdictOf("claude", jsonl(result({ is_error: true, result: "API Error: 500 Internal server error", total_cost_usd: 0 })), 0);
    expect(v.kind).toBe("error");
    expect(v.kind !== "ok" && v.message).toContain("API Error: 500");
  });

  it("a success result reports cost and tokens", () => {
    const usage = { input_tokens: 100, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 40 };
    const v = verdictOf("claude", jsonl({ type: "system", subtype: "init" }, result({ total_cost_usd: 0.42, usage })), 0);
    expect(v).toEqual({ kind: "ok", usage: { costUsd: 0.42, inputTokens: 150, outputTokens: 40, turns: 2 } });
  });

  it("a non-success subtype is an error even when is_error is false", () => {
    const v = verdictOf("claude", jsonl(result({ subtype: "error_max_turns", result: undefined })), 0);
    expect(v.kind).toBe("error");
    expect(v.kind !== "ok" && v.message).toContain("error_max_turns");
  });

  it("no result at all is an error", () => {
    expect(verdictOf("claude", "", 1, "Error: something broke").kind).toBe("error");
    expect(verdictOf("claude", jsonl({ type: "system", subtype: "init" }), 0).kind).toBe("error");
  });

  it("a usage limit is quota", () => {
    const v = verdictOf("claude", jsonl(result({ is_error: true, result: "Claude AI usage limit reached|1795000000" })), 1);
    expect(v.kind).toBe("quota");
  });

  it("the agent's own words about rate limits are not quota", () => {
    const assistant = { type: "assistant", message: { content: [{ type: "text", text: "I added a rate limit and a quota check to api.py" }] } };
    expect(verdictOf("claude", jsonl(assistant, result({})), 0).kind).toBe("ok");
    expect(verdictOf("claude", jsonl(assistant, result({ subtype: "error_max_turns" })), 0).kind).toBe("error");
  });
});

describe("codex parser", () => {
  const start = [{ type: "thread.started", thread_id: "t" }, { type: "turn.started" }];

  it("turn.failed is an error with its message", () => {
    const v = verdictOf("codex", jsonl(...start, { type: "turn.failed", error: { message: "stream disconnected before completion" } }), 1);
    expect(v.kind).toBe("error");
    expect(v.kind !== "ok" && v.message).toContain("stream disconnected before completion");
  });

  it("sums token usage over turns", () => {
    const turn = (input: number, output: number) => ({ type: "turn.completed", usage: { input_tokens: input, cached_input_tokens: 5, output_tokens: output } });
    const v = verdictOf("codex", jsonl(...start, turn(100, 10), { type: "turn.started" }, turn(250, 30)), 0);
    expect(v).toEqual({ kind: "ok", usage: { inputTokens: 350, outputTokens: 40, turns: 2 } });
  });

  it("a usage limit is quota", () => {
    const message = "You've hit your usage limit. Try again at 3:05 PM.";
    expect(verdictOf("codex", jsonl(...start, { type: "error", message }, { type: "turn.failed", error: { message } }), 1).kind).toBe("quota");
  });

  it("exit 0 without a completed turn is an error", () => {
    expect(verdictOf("codex", jsonl(...start), 0).kind).toBe("error");
  });
});

describe("aider parser", () => {
  it("reads the Cost line: session cost and summed tokens", () => {
    const out = [
      "Aider v0.86.1",
      "Tokens: 12k sent, 1.2k cache hit, 250 received. Cost: $0.03 message, $0.03 session.",
      "Applied edit to src/math.py",
      "Tokens: 2.5k sent, 1.5k received. Cost: $0.02 message, $0.05 session.",
    ].join("\n");
    expect(verdictOf("aider", out, 0)).toEqual({ kind: "ok", usage: { costUsd: 0.05, inputTokens: 14500, outputTokens: 1750 } });
  });

  it("an API error with exit 0 is an error", () => {
    const out = "litellm.APIError: AnthropicException - Internal server error\nRetrying in 0.2 seconds...\n";
    const v = verdictOf("aider", out, 0);
    expect(v.kind).toBe("error");
    expect(v.kind !== "ok" && v.message).toContain("litellm.APIError");
  });

  it("an API error that a retry got past is not an error", () => {
    const out = "litellm.APIError: overloaded\nRetrying in 0.2 seconds...\nTokens: 1k sent, 20 received. Cost: $0.00 message, $0.00 session.\n";
    expect(verdictOf("aider", out, 0).kind).toBe("ok");
  });

  it("a rate limit is quota", () => {
    const out = "litellm.RateLimitError: AnthropicException - rate_limit_error\nThe API provider has rate limited you. Try again later or check your quotas.\n";
    expect(verdictOf("aider", out, 0).kind).toBe("quota");
  });

  it("a reply that talks about quotas is fine", () => {
    const out = "I added the quota check to quota.py as asked.\nTokens: 1k sent, 20 received. Cost: $0.01 message, $0.01 session.\n";
    expect(verdictOf("aider", out, 0).kind).toBe("ok");
  });
});

describe("gemini parser", () => {
  // -o stream-json: init, then (after the work) the result, carrying the error or the stats.
  const doc = (fields: Record<string, unknown>) => jsonl({ type: "init", model: "gemini-2.5-pro" }, { type: "result", status: fields.error ? "error" : "success", ...fields });

  it("exit 41 is an auth failure naming its meaning and the fix", () => {
    const v = verdictOf("gemini", doc({ error: { type: "Error", message: "boom", code: 41 } }), 41);
    expect(v.kind).toBe("auth");
    expect(v.kind === "auth" && v.message).toContain("authentication");
    expect(v.kind === "auth" && v.fix).toContain("GEMINI_API_KEY");
  });

  it.each([
    [53, "turn limit"],
    [54, "tool execution"],
    [55, "untrusted workspace"],
  ])("exit %i is an error naming its meaning", (code, meaning) => {
    const v = verdictOf("gemini", doc({ error: { type: "Error", message: "boom", code } }), code);
    expect(v.kind).toBe("error");
    expect(v.kind !== "ok" && v.message).toContain(meaning);
  });

  it("reads tokens from the result's stats, and prices them by the model its init named", () => {
    const stats = { total_tokens: 5510, input_tokens: 5100, output_tokens: 410, cached: 0, duration_ms: 10, tool_calls: 0 };
    const v = verdictOf("gemini", doc({ stats }), 0);
    expect(v).toEqual({ kind: "ok", usage: { inputTokens: 5100, outputTokens: 410, costUsd: expect.closeTo(5100 * 1.25e-6 + 410 * 10e-6, 9) as number } });
  });

  it("the error document a failed start prints on stderr still counts", () => {
    const stderr = JSON.stringify({ session_id: "s", error: { type: "Error", message: "Please set an Auth method", code: 41 } }, null, 2);
    expect(verdictOf("gemini", "", 41, stderr).kind).toBe("auth");
  });

  it("an error object with exit 0 is still an error", () => {
    expect(verdictOf("gemini", doc({ error: { type: "Error", message: "[API Error: Internal]" } }), 0).kind).toBe("error");
  });

  it("exhausted quota is quota", () => {
    const v = verdictOf("gemini", doc({ error: { type: "TerminalQuotaError", message: "You have exhausted your capacity on this model. Your quota will reset after 2h." } }), 1,
      "Attempt 1 failed with status 429. Retrying with backoff...");
    expect(v.kind).toBe("quota");
  });
});

describe("custom and shell parsers", () => {
  it("a custom tool is judged by its exit, and quota words only matter on failure", () => {
    expect(verdictOf("custom", "all good, quota fine\n", 0).kind).toBe("ok");
    expect(verdictOf("custom", "", 1, "HTTP 429 Too Many Requests").kind).toBe("quota");
    expect(verdictOf("custom", "", 2, "crashed").kind).toBe("error");
  });

  it("a shell step's quota words are not quota", () => {
    expect(verdictOf("shell", "rate limit exceeded\n", 1).kind).toBe("error");
    expect(verdictOf("shell", "", 0).kind).toBe("ok");
  });
});

describe("parsers on the fakes' real output", () => {
  async function runPlanned(tool: string, action: Record<string, unknown>): Promise<ToolVerdict> {
    const step = makeStep({ tool });
    const ctx = makeContext(step);
    const adapter = adapterFor(ctx.workstream, tool);
    const inv = await adapter.prepare(ctx);
    const { env } = fakeEnv(ctx, inv.env, { [tool]: [action] });
    const ran = await runTool(inv.command, inv.args, { cwd: ctx.cwd, env, stdinFile: inv.stdinFile });
    return feed(adapter.parser(ctx), ran);
  }

  it.each(["aider", "claude", "codex", "gemini"])("%s: API error → error, quota → quota, success → ok", async (tool) => {
    expect((await runPlanned(tool, { apiError: true })).kind).toBe("error");
    expect((await runPlanned(tool, { quota: true })).kind).toBe("quota");
    expect((await runPlanned(tool, { message: "Implemented the rate limit and quota.py" })).kind).toBe("ok");
  });

  it("claude and aider report the cost the tool printed", async () => {
    expect((await runPlanned("claude", { cost: 0.37 })).usage?.costUsd).toBe(0.37);
    expect((await runPlanned("aider", { cost: 0.12 })).usage?.costUsd).toBe(0.12);
  });

  it("gemini's exit code 41 is an authentication error", async () => {
    const v = await runPlanned("gemini", { apiError: true, exit: 41 });
    expect(v.kind !== "ok" && v.message).toContain("authentication");
  });
});
