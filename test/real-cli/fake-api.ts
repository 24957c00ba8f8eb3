import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake model API on 127.0.0.1 for the real agent CLIs: Anthropic's Messages API (claude), the
 * OpenAI Responses API (codex) and Gemini's generateContent (gemini). Each server plays one
 * script: answer 429 (with Retry-After) or 401 for the first `failFirst` model calls, then answer
 * for real; for Claude a real answer is a scripted `tool_use` of Write, then a final text once
 * the tool result comes back. Every request is recorded (path and body size) for the tests.
 */
export interface Script {
  /** What the first `failFirst` model calls get (default: every call). */
  fail?: { status: 429; retryAfterS: number } | { status: 401 } | undefined;
  failFirst?: number;
  /** Claude: the file the scripted Write creates (absolute: Claude's Write takes absolute paths). */
  write?: { path: string; content: string } | undefined;
  /**
   * Tool calls to make one per model call, in order, each answer carrying its usage (then a final
   * text): the n-th model call answers with the n-th, n counted from the tool results the CLI has
   * sent back. Names and inputs are the CLI's own tools (Claude's Read/Write/Bash, Gemini's
   * read_file/write_file, Codex's shell).
   */
  calls?: Array<{ name: string; input: Record<string, unknown> }> | undefined;
}

export interface Recorded {
  method: string;
  path: string;
  bytes: number;
  at: number;
  /** The tools the CLI offered the model (names), for a script to pick from. */
  tools?: string[] | undefined;
}

export interface FakeApi {
  url: string;
  requests: Recorded[];
  /** Model calls only (not the CLIs' side requests: telemetry, version checks). */
  modelCalls(): Recorded[];
  close(): Promise<void>;
}

const MODEL_PATH = /\/v1\/messages|\/responses|:(?:stream)?[gG]enerateContent|\/chat\/completions/;

function sse(res: http.ServerResponse, events: Array<{ event?: string; data: unknown }>): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ""}data: ${JSON.stringify(e.data)}\n\n`);
  res.end();
}

/** The Anthropic Messages stream of one assistant message: text, or one tool_use. */
function anthropicMessage(res: http.ServerResponse, content: { text: string } | { toolUse: { name: string; input: unknown } }, stream: boolean): void {
  const id = `msg_${Math.random().toString(36).slice(2, 10)}`;
  const usage = { input_tokens: CALL_USAGE.input, output_tokens: CALL_USAGE.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const block = "text" in content ? { type: "text", text: content.text } : { type: "tool_use", id: `toolu_${id}`, name: content.toolUse.name, input: content.toolUse.input };
  const stopReason = "text" in content ? "end_turn" : "tool_use";
  if (!stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id, type: "message", role: "assistant", model: "claude-fake", content: [block], stop_reason: stopReason, stop_sequence: null, usage }));
    return;
  }
  const start = "text" in content ? { type: "text", text: "" } : { ...block, input: {} };
  const delta = "text" in content ? { type: "text_delta", text: content.text } : { type: "input_json_delta", partial_json: JSON.stringify(content.toolUse.input) };
  sse(res, [
    { event: "message_start", data: { type: "message_start", message: { id, type: "message", role: "assistant", model: "claude-fake", content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } } },
    { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: start } },
    { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta } },
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } } },
    { event: "message_stop", data: { type: "message_stop" } },
  ]);
}

/** How many tool results the conversation holds (each provider's own shape): the script's position. */
function toolResults(path: string, body: Record<string, unknown>): number {
  const count = (items: unknown, key: (x: Record<string, unknown>) => boolean): number => (Array.isArray(items) ? items.filter((x) => x !== null && typeof x === "object" && key(x as Record<string, unknown>)).length : 0);
  if (path.includes("/v1/messages")) return ((body.messages ?? []) as Array<{ content?: unknown }>).reduce((n, m) => n + count(m.content, (c) => c.type === "tool_result"), 0);
  if (path.includes("/responses")) return count(body.input, (i) => typeof i.type === "string" && i.type.endsWith("_output"));
  return ((body.contents ?? []) as Array<{ parts?: unknown }>).reduce((n, c) => n + count(c.parts, (p) => p.functionResponse !== undefined), 0);
}

/** Usage of every scripted answer (the same per call, so a test can add them up). */
export const CALL_USAGE = { input: 1000, output: 50 };

/** Gemini's streamGenerateContent (alt=sse): one chunk holding the function call or the text, with usageMetadata. */
function geminiAnswer(res: http.ServerResponse, part: Record<string, unknown>): void {
  const chunk = {
    candidates: [{ content: { role: "model", parts: [part] }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: CALL_USAGE.input, candidatesTokenCount: CALL_USAGE.output, totalTokenCount: CALL_USAGE.input + CALL_USAGE.output },
    modelVersion: "gemini-2.5-flash",
  };
  sse(res, [{ data: chunk }]);
}

/** The OpenAI Responses stream (codex wire_api "responses"): one output item, then response.completed with the usage. */
function responsesAnswer(res: http.ServerResponse, item: Record<string, unknown>): void {
  const id = `resp_${Math.random().toString(36).slice(2, 10)}`;
  const usage = { input_tokens: CALL_USAGE.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: CALL_USAGE.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: CALL_USAGE.input + CALL_USAGE.output };
  sse(res, [
    { event: "response.created", data: { type: "response.created", response: { id } } },
    { event: "response.output_item.done", data: { type: "response.output_item.done", output_index: 0, item } },
    { event: "response.completed", data: { type: "response.completed", response: { id, usage } } },
  ]);
}

/** The last user turn holds a tool_result: the scripted tool call has been answered. */
function answersToolCall(body: { messages?: Array<{ role?: string; content?: unknown }> }): boolean {
  const last = body.messages?.at(-1);
  return Array.isArray(last?.content) && last.content.some((c) => (c as { type?: string }).type === "tool_result");
}

function offersWrite(body: { tools?: Array<{ name?: string }> }): boolean {
  return (body.tools ?? []).some((t) => t.name === "Write");
}

function fail(res: http.ServerResponse, failure: NonNullable<Script["fail"]>): void {
  if (failure.status === 429) {
    res.writeHead(429, { "content-type": "application/json", "retry-after": String(failure.retryAfterS) });
    res.end(JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" }, error_code: 429 }));
  } else {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }));
  }
}

export async function startFakeApi(script: Script): Promise<FakeApi> {
  const requests: Recorded[] = [];
  let modelCalls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = req.url ?? "/";
      requests.push({ method: req.method ?? "GET", path, bytes: raw.length, at: Date.now() });
      if (!MODEL_PATH.test(path) || req.method !== "POST") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return;
      }
      modelCalls += 1;
      if (script.fail && modelCalls <= (script.failFirst ?? Infinity)) return fail(res, script.fail);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      } catch {
        // not JSON: answered as text below
      }
      const offered = (body.tools ?? []) as Array<{ name?: string; type?: string; functionDeclarations?: Array<{ name?: string }> }>;
      const last = requests.at(-1);
      if (last) last.tools = offered.flatMap((t) => t.functionDeclarations?.map((f) => f.name ?? "") ?? [t.name ?? t.type ?? ""]);
      const next = script.calls?.[toolResults(path, body)];
      if (script.calls && path.includes("/v1/messages")) {
        const content = next ? { toolUse: next } : { text: "Done." };
        return anthropicMessage(res, content, body.stream === true);
      }
      if (script.calls && path.includes("/responses")) {
        const item = next
          ? { type: "function_call", id: `fc_${toolResults(path, body)}`, call_id: `call_${toolResults(path, body)}`, name: next.name, arguments: JSON.stringify(next.input) }
          : { type: "message", id: "msg_done", role: "assistant", content: [{ type: "output_text", text: "Done." }] };
        return responsesAnswer(res, item);
      }
      if (script.calls) return geminiAnswer(res, next ? { functionCall: { name: next.name, args: next.input } } : { text: "Done." });
      if (path.includes("/v1/messages")) {
        const stream = body.stream === true;
        if (script.write && offersWrite(body) && !answersToolCall(body)) {
          return anthropicMessage(res, { toolUse: { name: "Write", input: { file_path: script.write.path, content: script.write.content } } }, stream);
        }
        return anthropicMessage(res, { text: "Done." }, stream);
      }
      // Only Claude's success path is scripted; the others are driven into failures.
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the fake API scripts no success for this endpoint" } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    modelCalls: () => requests.filter((r) => r.method === "POST" && MODEL_PATH.test(r.path)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then closed (connection refused, at once). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
