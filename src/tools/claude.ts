import type { Usage } from "../events/run-event.js";
import { agentEnv, commandFor, envOf, modelFor } from "./agent-env.js";
import { parseJsonLine } from "./json-line.js";
import { writePromptFile } from "./prompt.js";
import type { ToolAdapter, ToolContext } from "./types.js";
import { ErrorEvidence, clip, describeExit, exitedZero, hostOf, ok } from "./verdict.js";
import { homeOf } from "./home.js";
import { ActivityQueue, shownPath } from "./activity.js";
import { costOf } from "./prices.js";

/**
 * Reading is always allowed; editing only inside the step's file_scope. (Claude Code 2.x has no
 * `LS` tool any more: its init event lists the tools, and directory listing is Glob's job.)
 */
const READ_TOOLS = ["Read", "Grep", "Glob"];

/** What to do when Claude's credentials fail. */
const CLAUDE_AUTH_FIX = "set ANTHROPIC_API_KEY (or run `claude` once and /login) for the user running ws";

/**
 * Claude Code retries a failed API call on its own (10 times by default, with backoff), longer
 * than a step's timeout for a 429: ws would only see a timeout. One retry for a blip; a quota is
 * ws's job (the tool's queue parks until the reset). The step's env may set its own value.
 */
const MAX_RETRIES = "1";

/**
 * The --allowedTools list. Permission rules take gitignore-style paths relative to the working
 * directory (code.claude.com/docs/en/permissions, "Read and Edit"). Without a file_scope the step
 * may edit anything (ws warns about it at validation).
 */
function claudeAllowedTools(ctx: ToolContext): string {
  const edits = ctx.step.fileScope.length > 0
    ? ctx.step.fileScope.flatMap((pattern) => [`Edit(${pattern})`, `Write(${pattern})`])
    : ["Edit", "Write"];
  return [...READ_TOOLS, ...edits].join(",");
}

interface ClaudeResult {
  type: "result";
  subtype?: string;
  is_error?: boolean;
  result?: string;
  num_turns?: number;
  /** HTTP status of the API error that ended the session (2.1.x). */
  api_error_status?: number | null;
  /** e.g. "connection_failed". */
  api_error?: string | null;
  total_cost_usd?: number;
  usage?: { input_tokens?: number; output_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
}

function usageOf(result: ClaudeResult): Usage {
  const u = result.usage ?? {};
  const input = (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
  return {
    costUsd: typeof result.total_cost_usd === "number" ? result.total_cost_usd : undefined,
    inputTokens: result.usage ? input : undefined,
    outputTokens: u.output_tokens,
    turns: typeof result.num_turns === "number" ? result.num_turns : undefined,
  };
}

/**
 * The kind of a failed API call from the typed fields Claude Code puts on the synthetic assistant
 * message (`error`: "rate_limit", "authentication_failed", "server_error" with `api_error`
 * "connection_failed") and on the result (`api_error_status`).
 */
function apiErrorKind(error: unknown, status: unknown, apiError: unknown): "quota" | "auth" | "network" | undefined {
  if (error === "rate_limit" || status === 429) return "quota";
  if (error === "authentication_failed" || status === 401 || status === 403) return "auth";
  if (apiError === "connection_failed" || error === "connection_failed") return "network";
  return undefined;
}

function textOf(message: unknown): string | undefined {
  const content = (message as { content?: unknown } | undefined)?.content;
  if (!Array.isArray(content)) return undefined;
  const texts = content.map((c) => (c as { type?: unknown; text?: unknown }).type === "text" ? (c as { text?: unknown }).text : undefined).filter((t): t is string => typeof t === "string");
  return texts.length > 0 ? texts.join(" ") : undefined;
}

/** Claude Code's file tools (code.claude.com/docs/en/settings, "Tools available to Claude"): their input names the file. */
const EDIT_TOOLS = new Set(["Edit", "MultiEdit", "Write", "NotebookEdit"]);

/**
 * One `tool_use` block as a line a person reads: `Edit src/x.ts`, `Bash: npm test`, `Read
 * README.md`, `Grep TODO`. The inputs are Claude Code's tool schemas as its stream shows them
 * (`file_path`, `notebook_path`, `command`, `pattern`, `url`, `description`).
 */
function toolActivity(queue: ActivityQueue, block: { name?: unknown; input?: unknown }, cwd: string): void {
  const name = typeof block.name === "string" ? block.name : "tool";
  const input = (block.input ?? {}) as Record<string, unknown>;
  const str = (key: string): string | undefined => (typeof input[key] === "string" ? input[key] : undefined);
  const file = str("file_path") ?? str("notebook_path");
  if (EDIT_TOOLS.has(name)) return queue.push("edit", `${name} ${file === undefined ? "" : shownPath(file, cwd)}`);
  if (name === "Read") return queue.push("read", `Read ${file === undefined ? "" : shownPath(file, cwd)}`);
  if (name === "Grep" || name === "Glob") return queue.push("read", `${name} ${str("pattern") ?? ""}`);
  if (name === "Bash") return queue.push("command", `Bash: ${str("command") ?? ""}`);
  const detail = str("description") ?? str("url") ?? str("query") ?? str("pattern") ?? file;
  queue.push("tool", detail === undefined ? name : `${name}: ${detail}`);
}

const LIMIT_SUBTYPES = new Set(["error_max_turns"]);

/** Claude's words for why it stopped, for a message a person reads. */
function describeSubtype(subtype: string | undefined): string {
  switch (subtype) {
    case undefined:
    case "success":
      return "reported an error";
    case "error_max_turns":
      return "stopped at its turn limit (error_max_turns, --max-turns)";
    case "error_max_budget_usd":
      return "stopped at its cost limit (error_max_budget_usd, --max-budget-usd)";
    case "error_during_execution":
      return "failed during execution";
    default:
      return `ended with ${subtype}`;
  }
}

export const claudeAdapter: ToolAdapter = {
  name: "claude",
  // API key, or the token of `claude setup-token` / an API gateway.
  keyVariables: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
  // Claude Code keeps its settings and sessions in ~/.claude (or $CLAUDE_CONFIG_DIR) and its
  // account state in ~/.claude.json; the real-CLI suite runs it sandboxed with just these writable.
  stateDirs: (env) => (env.CLAUDE_CONFIG_DIR ? [env.CLAUDE_CONFIG_DIR] : [`${homeOf(env)}/.claude`, `${homeOf(env)}/.claude.json`]),
  async prepare(ctx) {
    const model = modelFor(ctx);
    const prompt = await writePromptFile(ctx);
    // docs.anthropic.com/en/docs/claude-code/cli-reference; checked against `claude --help` of 2.1.332:
    //  -p/--print: one answer, then exit. No prompt argument: with stdin not a terminal, print
    //    mode reads the prompt from stdin ("Input must be provided either through stdin or as a
    //    prompt argument"), so any length works (argv caps one argument at 128 KiB);
    //  --output-format stream-json (needs --verbose): one JSON event a line, ending with the
    //    `result` object (subtype, is_error, total_cost_usd, usage, num_turns, api_error_status);
    //  --permission-mode dontAsk: "only pre-approved tools; anything that would prompt is
    //    denied", for CI and scripts (code.claude.com/docs/en/permission-modes);
    //  --no-session-persistence: no session files kept;
    //  --max-turns N, --max-budget-usd X: the step's budget, enforced by Claude itself too.
    // Claude Code never commits unless asked to, and has no colour flag: NO_COLOR is set.
    const args = [
      "-p",
      "--output-format", "stream-json", "--verbose",
      "--permission-mode", "dontAsk",
      "--allowedTools", claudeAllowedTools(ctx),
      "--no-session-persistence",
    ];
    if (model !== undefined) args.push("--model", model);
    const { maxTurns, maxCostUsd } = ctx.step.budget;
    if (maxTurns !== undefined) args.push("--max-turns", String(maxTurns));
    if (maxCostUsd !== undefined) args.push("--max-budget-usd", String(maxCostUsd));
    // CLAUDE_CODE_MAX_RETRIES: read by Claude Code's API client (code.claude.com/docs/en/settings, "Environment variables").
    const env = { CLAUDE_CODE_MAX_RETRIES: MAX_RETRIES, ...agentEnv(ctx) };
    return { command: commandFor(ctx, "claude", "claude"), args, env, stdinFile: prompt.file };
  },
  parser(ctx) {
    const evidence = new ErrorEvidence(CLAUDE_AUTH_FIX, ctx.now);
    // ANTHROPIC_BASE_URL (code.claude.com/docs/en/settings, "Environment variables"); its lines
    // name no host ("API Error: Connection refused … (ECONNREFUSED)").
    evidence.host = hostOf(envOf(ctx, "ANTHROPIC_BASE_URL")) ?? "api.anthropic.com";
    let result: ClaudeResult | undefined;
    let stoppedFor: string | undefined;
    // Streamed usage, for the budget: each assistant message carries its call's tokens. Claude
    // Code reports its cost only on the final result; meanwhile it comes from the price table.
    const live = { inputTokens: 0, outputTokens: 0, turns: 0 };
    const split = { input: 0, cachedInput: 0, cacheWrite: 0, output: 0 };
    let model: string | undefined;
    const calls = new Set<string>();
    const activity = new ActivityQueue();
    return {
      usageSoFar: () => ({ ...live, costUsd: costOf(model, split) }),
      takeActivity: () => activity.take(),
      onLine(line, stream) {
        if (stream === "stderr") return evidence.add(line);
        const event = parseJsonLine(line);
        if (!event) return evidence.add(line);
        if (event.type === "result") {
          result = event as unknown as ClaudeResult;
        } else if (event.type === "system" && typeof event.subtype === "string" && /retry|error/i.test(event.subtype)) {
          // API retries are reported as system events; their text says why (429, overloaded...).
          evidence.add(line);
        } else if (event.type === "system" && event.subtype === "init" && typeof event.model === "string") {
          model = event.model;
        } else if (event.type === "assistant" && typeof event.error !== "string") {
          const message = event.message as { id?: unknown; model?: unknown; usage?: ClaudeResult["usage"]; content?: unknown } | undefined;
          if (typeof message?.model === "string") model = message.model;
          // One API call may stream several assistant events with the same id and usage.
          if (typeof message?.id === "string" && !calls.has(message.id) && message.usage) {
            calls.add(message.id);
            const u = message.usage;
            live.inputTokens += (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
            live.outputTokens += u.output_tokens ?? 0;
            live.turns += 1;
            split.input += u.input_tokens ?? 0;
            split.cachedInput += u.cache_read_input_tokens ?? 0;
            split.cacheWrite += u.cache_creation_input_tokens ?? 0;
            split.output += u.output_tokens ?? 0;
          }
          // Each content block is its own event or one of several in a message: every block counts once.
          for (const block of Array.isArray(message?.content) ? (message.content as Array<{ type?: unknown; text?: unknown; name?: unknown; input?: unknown }>) : []) {
            if (block.type === "tool_use") toolActivity(activity, block, ctx.cwd);
            else if (block.type === "text" && typeof block.text === "string") activity.push("message", block.text);
          }
        } else if (event.type === "assistant" && typeof event.error === "string") {
          // A synthetic assistant message standing for a failed API call: typed, and its text says why.
          const text = textOf(event.message) ?? event.error;
          const kind = apiErrorKind(event.error, event.api_error_status, event.api_error);
          if (kind) evidence.mark(kind, text);
          else evidence.add(text);
          // Unreachable (2.1.332 offline: `error: "server_error"`, `api_error: "connection_failed"`,
          // "API Error: Connection refused …" / "Can't reach the API server … (ENOTFOUND)"): this
          // message comes after its own retries are spent, and nothing after it can help. Its
          // first `api_retry` event says only `error: "unknown"`, which is not evidence of anything.
          if (kind === "network") {
            stoppedFor = text;
            return "stop";
          }
        }
      },
      finish(exit) {
        if (!result && stoppedFor !== undefined) return evidence.fail(`claude could not reach the API, stopped by ws: ${clip(stoppedFor, 300)}`);
        if (!result) {
          return evidence.fail(`claude ${describeExit(exit)} without a result${evidence.last ? `: ${evidence.last}` : ""}`);
        }
        const usage = usageOf(result);
        // is_error is the truth: API errors come back with exit 0 and is_error: true.
        if (result.is_error === true || (result.subtype !== undefined && result.subtype !== "success")) {
          const kind = apiErrorKind(undefined, result.api_error_status, result.api_error);
          if (result.result) {
            if (kind) evidence.mark(kind, result.result);
            else evidence.add(result.result);
          }
          const message = `claude ${describeSubtype(result.subtype)}${result.result ? `: ${clip(result.result, 300)}` : ""}`;
          // A limit ws passed (the step's budget) is not the tool failing.
          if (LIMIT_SUBTYPES.has(result.subtype ?? "") && ctx.step.budget.maxTurns !== undefined || (result.subtype === "error_max_budget_usd" && ctx.step.budget.maxCostUsd !== undefined)) {
            return { kind: "budget", message, usage };
          }
          return evidence.fail(message, usage);
        }
        if (!exitedZero(exit)) return evidence.fail(`claude ${describeExit(exit)}`, usage);
        return ok(usage);
      },
    };
  },
};
