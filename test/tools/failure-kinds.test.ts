import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { looksLikeAuth, looksLikeNetwork, quotaResetAt } from "../../src/tools/quota.js";
import { adapterFor } from "../../src/tools/registry.js";
import type { ToolVerdict } from "../../src/tools/types.js";
import { exited, makeContext, makeStep, makeWorkstream } from "./helpers.js";

const NOW = Date.parse("2026-11-30T10:00:00Z");

function parserOf(tool: string) {
  const step = makeStep({ tool });
  return adapterFor(makeWorkstream([step]), tool).parser({ ...makeContext(step), now: () => NOW });
}

function verdictOf(tool: string, lines: { stdout?: string[]; stderr?: string[] }, code: number): ToolVerdict {
  const parser = parserOf(tool);
  for (const line of lines.stderr ?? []) parser.onLine(line, "stderr");
  for (const line of lines.stdout ?? []) parser.onLine(line, "stdout");
  return parser.finish(exited(code));
}

describe("quotaResetAt", () => {
  it.each([
    ["Claude AI usage limit reached|1795000000", 1795000000 * 1000],
    ["HTTP 429, retry-after: 7", NOW + 7000],
    ['{"Retry-After": "30"}', NOW + 30_000],
    ["Quota exceeded. Please retry in 43.6s.", NOW + 43_600],
    ["Your quota will reset after 2h52m39s.", NOW + (2 * 3600 + 52 * 60 + 39) * 1000],
    ["rate limited, try again in 5 minutes", NOW + 5 * 60_000],
    ["usage limit, resets at 2026-11-30T14:05:00Z", Date.parse("2026-11-30T14:05:00Z")],
  ])("%j", (text, expected) => {
    expect(quotaResetAt(text, NOW)).toBe(expected);
  });

  it("a wall-clock time is the next one after now, in local time", () => {
    const at = quotaResetAt("You've hit your usage limit. Try again at 3:05 PM.", NOW)!;
    const d = new Date(at);
    expect([d.getHours(), d.getMinutes()]).toEqual([15, 5]);
    expect(at).toBeGreaterThan(NOW);
    expect(at - NOW).toBeLessThanOrEqual(24 * 3600 * 1000);
  });

  it("says nothing when the text names no time", () => {
    expect(quotaResetAt("429 Too Many Requests", NOW)).toBeUndefined();
    expect(quotaResetAt("rate limit exceeded", NOW)).toBeUndefined();
  });
});

describe("auth and network evidence", () => {
  it.each([
    "Invalid API key · Fix external API key",
    "Not logged in · Please run /login",
    "unexpected status 401 Unauthorized: invalid x-api-key",
    '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
    "Please set an Auth method in your settings.json",
    "litellm.AuthenticationError: AnthropicException - invalid x-api-key",
  ])("auth: %j", (text) => expect(looksLikeAuth(text)).toBe(true));

  it.each(["Create src/auth.py with a login()", "line 401 of parser.c", "the authenticate() helper"])("not auth: %j", (text) => {
    expect(looksLikeAuth(text)).toBe(false);
  });

  it.each([
    "API Error: Connection refused (ECONNREFUSED)",
    "Reconnecting... waiting for network (Connection failed: error sending request)",
    "stream disconnected before completion: failed to lookup address information: Name does not resolve",
    "failed to lookup address information: Name or service not known",
    "dns error: failed to lookup address information: Temporary failure in name resolution",
    "TypeError: fetch failed",
  ])("network: %j", (text) => expect(looksLikeNetwork(text)).toBe(true));
});

describe("claude: typed API errors (2.1.x stream-json)", () => {
  const assistantError = (error: string, text: string, status: number | null) =>
    JSON.stringify({ type: "assistant", message: { model: "<synthetic>", content: [{ type: "text", text }] }, error, is_api_error_message: true, api_error_status: status });
  const result = (text: string, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ type: "result", subtype: "success", is_error: true, result: text, num_turns: 1, total_cost_usd: 0, ...fields });

  it("authentication_failed is auth, worded without the subtype, with the fix", () => {
    const text = "Invalid API key · Fix external API key";
    const v = verdictOf("claude", { stdout: [assistantError("authentication_failed", text, 401), result(text, { api_error_status: 401 })] }, 1);
    expect(v.kind).toBe("auth");
    if (v.kind !== "auth") return;
    expect(v.message).toBe("claude reported an error: Invalid API key · Fix external API key");
    expect(v.message).not.toContain("success");
    expect(v.fix).toContain("ANTHROPIC_API_KEY");
  });

  it("rate_limit is quota; connection_failed is network", () => {
    const limited = "API Error: Request rejected (429) · Number of requests has exceeded your rate limit";
    expect(verdictOf("claude", { stdout: [assistantError("rate_limit", limited, 429), result(limited, { api_error_status: 429 })] }, 1).kind).toBe("quota");
    const refused = "API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)";
    const v = verdictOf("claude", { stdout: [assistantError("server_error", refused, null), result(refused, { api_error: "connection_failed" })] }, 1);
    expect(v.kind).toBe("network");
  });

  // What 2.1.332 prints offline (a closed port, an unknown host): an api_retry that says nothing, then this.
  it.each([
    ["API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)", "http://127.0.0.1:9", "127.0.0.1:9"],
    ["API Error: Can't reach the API server — check your internet or DNS (ENOTFOUND)", "http://ws-no-such-host.invalid", "ws-no-such-host.invalid"],
    ["API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)", undefined, "api.anthropic.com"],
  ])("stops at the first connection_failed message, before the result: %j (ANTHROPIC_BASE_URL %s)", (text, baseUrl, host) => {
    const step = makeStep({ tool: "claude", env: baseUrl === undefined ? {} : { ANTHROPIC_BASE_URL: baseUrl } });
    const parser = adapterFor(makeWorkstream([step]), "claude").parser(makeContext(step));
    expect(parser.onLine(JSON.stringify({ type: "system", subtype: "api_retry", attempt: 1, max_retries: 1, error_status: null, error: "unknown" }), "stdout")).toBeUndefined();
    expect(parser.onLine(JSON.stringify({ ...JSON.parse(assistantError("server_error", text, null)), api_error: "connection_failed" }), "stdout")).toBe("stop");
    const v = parser.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" });
    expect(v).toMatchObject({ kind: "network", host });
    expect(v.kind === "network" && v.message).toContain(text);
  });

  it("a timeout with a rate-limit retry in the stream is quota, not a plain timeout", () => {
    const parser = parserOf("claude");
    parser.onLine(JSON.stringify({ type: "system", subtype: "api_retry", error: "rate_limit", error_status: 429, attempt: 3 }), "stdout");
    expect(parser.finish({ exitCode: null, signal: "SIGTERM", outcome: "timeout" }).kind).toBe("quota");
  });
});

describe("codex: a hopeless reconnect loop is stopped", () => {
  const event = (message: string) => JSON.stringify({ type: "error", message });

  it("asks to stop at the first network reconnect (codex 0.171 offline, refused port and unknown host alike), and reports network with the provider's host", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ws-codex-home-"));
    fs.writeFileSync(path.join(home, "config.toml"), ['model_provider = "fake"', "[model_providers.other]", 'base_url = "http://elsewhere:1/v1"', "[model_providers.fake]", 'base_url = "http://127.0.0.1:9/v1"', ""].join("\n"));
    const step = makeStep({ tool: "codex", env: { CODEX_HOME: home } });
    const parser = adapterFor(makeWorkstream([step]), "codex").parser(makeContext(step));
    expect(parser.onLine(JSON.stringify({ type: "turn.started" }), "stdout")).toBeUndefined();
    expect(parser.onLine(event("Reconnecting... waiting for network (Connection failed: error sending request)"), "stdout")).toBe("stop");
    const v = parser.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" });
    expect(v).toMatchObject({ kind: "network", host: "127.0.0.1:9" });
    expect(v.kind !== "ok" && v.message).toContain("waiting for network");
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("on its default (WebSocket) transport, stops at the first DNS failure and names openai_base_url's host, else the OpenAI API's", () => {
    // codex 0.171 with the built-in provider offline: its first reconnect line is this one.
    const line = event("Reconnecting... 2/5 (stream disconnected before completion: failed to lookup address information: Name does not resolve)");
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ws-codex-home-"));
    fs.writeFileSync(path.join(home, "config.toml"), 'openai_base_url = "http://ws-no-such-host.invalid/v1"\n');
    for (const [codexHome, host] of [[home, "ws-no-such-host.invalid"], ["/nonexistent", "api.openai.com"]] as const) {
      const step = makeStep({ tool: "codex", env: { CODEX_HOME: codexHome } });
      const parser = adapterFor(makeWorkstream([step]), "codex").parser(makeContext(step));
      expect(parser.onLine(line, "stdout")).toBe("stop");
      expect(parser.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" })).toMatchObject({ kind: "network", host });
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("stops at the first 401 or 429 reconnect: auth and quota", () => {
    const auth = parserOf("codex");
    expect(auth.onLine(event("Reconnecting... 1/5 (unexpected status 401 Unauthorized: invalid x-api-key)"), "stdout")).toBe("stop");
    expect(auth.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" }).kind).toBe("auth");
    const quota = parserOf("codex");
    expect(quota.onLine(event("Reconnecting... 1/5 (exceeded retry limit, last status: 429 Too Many Requests)"), "stdout")).toBe("stop");
    expect(quota.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" }).kind).toBe("quota");
  });

  it("a 500 reconnect is left to codex's own bounded retries", () => {
    const parser = parserOf("codex");
    for (let i = 1; i <= 5; i++) expect(parser.onLine(event(`Reconnecting... ${i}/5 (unexpected status 500 Internal Server Error)`), "stdout")).toBeUndefined();
  });
});

describe("gemini: the error document on stderr", () => {
  it("is read and reported, not its last line `}`", () => {
    const doc = JSON.stringify({ session_id: "s", error: { type: "Error", message: "Please set an Auth method in your settings.json", code: 41 } }, null, 2);
    const v = verdictOf("gemini", { stderr: ["Loaded cached credentials.", ...doc.split("\n")] }, 41);
    expect(v.kind).toBe("auth");
    expect(v.kind === "auth" && v.message).toContain("Please set an Auth method");
    expect(v.kind === "auth" && v.message).not.toMatch(/: \}$/);
  });

  it("after a stack trace, the document is still found", () => {
    const doc = JSON.stringify({ error: { type: "Error", message: '{"error":{"message":"invalid x-api-key"}}', code: 401 } }, null, 2);
    const v = verdictOf("gemini", { stderr: ["Error: boom", "    at x (file.js:1:1) {", "  status: 401", "}"], stdout: doc.split("\n") }, 1);
    expect(v.kind).toBe("auth");
  });
});

describe("gemini: a hopeless retry is stopped", () => {
  it.each([
    ["Attempt 1 failed with status 429. Retrying with backoff... RESOURCE_EXHAUSTED", "quota"],
    ["Attempt 1 failed. Retrying with backoff... Error: exception TypeError: fetch failed sending request", "network"],
    ['Attempt 1 failed. Retrying with backoff... {"error":{"code":401,"status":"UNAUTHENTICATED","message":"API key not valid"}}', "auth"],
  ])("%j → %s", (line, kind) => {
    const parser = parserOf("gemini");
    expect(parser.onLine(line, "stderr")).toBe("stop");
    expect(parser.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" }).kind).toBe(kind);
  });

  it.each([
    ["http://ws-no-such-host.invalid", "ws-no-such-host.invalid"],
    [undefined, "generativelanguage.googleapis.com"],
  ])("fetch failed names the API host (GOOGLE_GEMINI_BASE_URL %s)", (baseUrl, host) => {
    const step = makeStep({ tool: "gemini", env: baseUrl === undefined ? {} : { GOOGLE_GEMINI_BASE_URL: baseUrl } });
    const parser = adapterFor(makeWorkstream([step]), "gemini").parser(makeContext(step));
    expect(parser.onLine("Attempt 1 failed. Retrying with backoff... Error: exception TypeError: fetch failed sending request", "stderr")).toBe("stop");
    expect(parser.finish({ exitCode: null, signal: "SIGTERM", outcome: "stopped" })).toMatchObject({ kind: "network", host });
  });

  it("a 500 retry is left to gemini", () => {
    expect(parserOf("gemini").onLine("Attempt 1 failed with status 500. Retrying with backoff...", "stderr")).toBeUndefined();
  });
});
