import type { Usage } from "../events/run-event.js";
import { agentEnv, commandFor, envOf, modelFor } from "./agent-env.js";
import fs from "node:fs/promises";
import path from "node:path";
import { promptChars, writePromptFile } from "./prompt.js";
import { parseJsonLine } from "./json-line.js";
import { ActivityQueue, StreamEstimate, shownPath } from "./activity.js";
import { costOf } from "./prices.js";
import type { ProcessExit, ToolAdapter, ToolContext, ToolVerdict } from "./types.js";
import { looksLikeAuth, looksLikeNetwork, looksLikeQuota } from "./quota.js";
import { ErrorEvidence, clip, describeExit, exitedZero, hostOf, ok } from "./verdict.js";
import { homeOf } from "./home.js";

/**
 * Exit codes of a headless run (google-gemini/gemini-cli packages/core/src/utils/errors.ts,
 * "Exit Code Reference"; geminicli.com/docs/cli/headless "Exit codes").
 */
const GEMINI_EXIT_CODES: Readonly<Record<number, string>> = {
  1: "general error or API failure",
  41: "authentication error",
  42: "input error",
  44: "sandbox error",
  52: "configuration error",
  53: "turn limit exceeded",
  54: "tool execution error",
  55: "untrusted workspace",
  130: "cancelled",
};

const GEMINI_AUTH_FIX = "set GEMINI_API_KEY (ws then selects the gemini-api-key auth method), or run `gemini` once and log in, for the user running ws";

/** Exit codes that say the credentials are the problem. */
const AUTH_EXIT = 41;
/** model.maxSessionTurns reached: the step's max_turns budget, when ws set it. */
const TURN_LIMIT_EXIT = 53;

/**
 * Settings ws passes as Gemini CLI's *system defaults* (GEMINI_CLI_SYSTEM_DEFAULTS_PATH, the
 * lowest layer: the user's own settings still win; packages/cli/src/config/settings.ts):
 * general.maxAttempts bounds its own API retries (default 10 with backoff, longer than a step
 * timeout for a 429), model.maxSessionTurns carries the budget's max_turns, and with
 * GEMINI_API_KEY set the key's auth method is selected, else a fresh HOME fails with "Invalid
 * auth method selected" (exit 41) although the key is there.
 */
function systemDefaults(ctx: Parameters<ToolAdapter["prepare"]>[0]): Record<string, unknown> {
  const settings: Record<string, unknown> = { general: { maxAttempts: 2 } };
  if (ctx.step.budget.maxTurns !== undefined) settings.model = { maxSessionTurns: ctx.step.budget.maxTurns };
  if (ctx.env.GEMINI_API_KEY || ctx.step.env.GEMINI_API_KEY) settings.security = { auth: { selectedType: "gemini-api-key" } };
  return settings;
}

/** What a failed start prints on stderr as a pretty-printed document (no auth method): parsed whole at the end. */
const MAX_STDERR_CHARS = 1024 * 1024;

/**
 * The `-o stream-json` events (google-gemini/gemini-cli packages/core/src/output/types.ts,
 * JsonStreamEventType; emitted by packages/cli/src/nonInteractiveCli.ts): `init` {model},
 * `message` {role, content, delta}, `tool_use` {tool_name, tool_id, parameters}, `tool_result`
 * {tool_id, status, output, error}, `error` {severity, message}, and last `result` {status,
 * error?: {type, message}, stats: {input_tokens, output_tokens, ...}}. Tokens come only with
 * `result`: until then the budget watches ws's estimate from the stream.
 */
interface GeminiResult {
  status?: string;
  error?: { type?: string; message?: string; code?: number | string };
  stats?: { input_tokens?: number; output_tokens?: number; cached?: number };
}

/** The document `-o json` and a failed start print (`{session_id, error: {type, message, code}}`). */
interface GeminiDocument {
  error?: { type?: string; message?: string; code?: number | string };
}

function parseDocument(text: string): GeminiDocument | undefined {
  // Anything printed before the document (a notice, a stack trace) is skipped: the document is
  // the first line opening with "{" from which the rest parses whole.
  for (const match of text.matchAll(/^\{/gm)) {
    try {
      const value: unknown = JSON.parse(text.slice(match.index));
      if (value !== null && typeof value === "object") return value as GeminiDocument;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Gemini CLI's built-in tools (packages/core/src/tools/tool-names.ts) and the parameter naming the file. */
const EDIT_TOOLS = new Set(["write_file", "replace"]);
const READ_TOOLS = new Set(["read_file", "read_many_files", "list_directory", "glob", "grep_search"]);

function toolActivity(queue: ActivityQueue, name: string, params: Record<string, unknown>, cwd: string): void {
  const str = (key: string): string | undefined => (typeof params[key] === "string" ? params[key] : undefined);
  const file = str("file_path") ?? str("dir_path") ?? str("path") ?? str("absolute_path");
  if (EDIT_TOOLS.has(name)) return queue.push("edit", `${name === "replace" ? "Edit" : "Write"} ${file === undefined ? "" : shownPath(file, cwd)}`);
  if (name === "run_shell_command") return queue.push("command", `Shell: ${str("command") ?? ""}`);
  if (READ_TOOLS.has(name)) {
    const what = file === undefined ? (str("pattern") ?? (Array.isArray(params.paths) ? params.paths.join(" ") : "")) : shownPath(file, cwd);
    return queue.push("read", `${name} ${what}`);
  }
  const detail = str("query") ?? str("prompt") ?? file;
  queue.push("tool", detail === undefined ? name : `${name}: ${detail}`);
}

/**
 * Gemini retries a failed call with backoff, for minutes when offline (seen with 0.61: 87 s for
 * `fetch failed` against a closed port, despite general.maxAttempts 2). Its retry line says why
 * ("Attempt 1 failed with status 429. Retrying with backoff...", "Attempt 1 failed. Retrying with
 * backoff... Error: exception TypeError: fetch failed"): a quota, a 401 or an unreachable API will
 * not be different seconds later, so ws stops there and reports it.
 */
function hopelessRetry(line: string): boolean {
  if (!/\bRetrying with backoff\b/i.test(line)) return false;
  return looksLikeQuota(line) || looksLikeAuth(line) || looksLikeNetwork(line);
}

/** A document on stderr counts only when it is an error document. */
function errorDocument(stderr: string): GeminiDocument | undefined {
  const doc = parseDocument(stderr);
  return doc?.error ? doc : undefined;
}

function usageOf(result: GeminiResult, model: string | undefined): Usage | undefined {
  const stats = result.stats;
  if (stats?.input_tokens === undefined && stats?.output_tokens === undefined) return undefined;
  const inputTokens = stats.input_tokens ?? 0;
  const outputTokens = stats.output_tokens ?? 0;
  const cached = stats.cached ?? 0;
  // Gemini CLI reports no cost: the price table's, by the model its init event named.
  const costUsd = costOf(model, { input: inputTokens - cached, cachedInput: cached, output: outputTokens });
  return { inputTokens, outputTokens, ...(costUsd === undefined ? {} : { costUsd }) };
}

export const geminiAdapter: ToolAdapter = {
  name: "gemini",
  // GOOGLE_API_KEY: Vertex AI.
  keyVariables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
  // Gemini CLI keeps settings, trusted folders and chat state in ~/.gemini (the real-CLI suite runs it sandboxed so).
  stateDirs: (env) => [`${homeOf(env)}/.gemini`],
  async prepare(ctx) {
    const model = modelFor(ctx);
    // google-gemini/gemini-cli packages/cli/src/config/config.ts (yargs options) and
    // geminicli.com/docs/cli/headless:
    //  -p/--prompt: non-interactive, one answer then exit;
    //  -o/--output-format stream-json: one JSON event a line as it works (init, message,
    //    tool_use, tool_result, error, then result with the stats), so ws sees its activity;
    //  --approval-mode auto_edit: edit tools approved, shell tools excluded in non-interactive mode;
    //  --skip-trust: headless runs are otherwise refused in folders not listed in
    //    ~/.gemini/trustedFolders.json (exit 55; littlebearapps/untether#472);
    //  -m/--model.
    // Gemini CLI has no colour flag (NO_COLOR is set) and does not commit.
    //  The prompt is stdin: with stdin not a terminal, gemini reads it (up to 8 MiB) and puts
    //  it before the -p text (packages/cli/src/gemini.tsx, readStdin); `-p ""` keeps it headless.
    const prompt = await writePromptFile(ctx);
    const defaults = path.join(ctx.stepDir, "gemini-system-defaults.json");
    await fs.writeFile(defaults, JSON.stringify(systemDefaults(ctx), null, 2));
    const args = ["-p", "", "-o", "stream-json", "--approval-mode", "auto_edit", "--skip-trust"];
    if (model !== undefined) args.push("-m", model);
    const env = { GEMINI_CLI_SYSTEM_DEFAULTS_PATH: defaults, ...agentEnv(ctx) };
    return { command: commandFor(ctx, "gemini", "gemini"), args, env, stdinFile: prompt.file };
  },
  parser(ctx) {
    const evidence = new ErrorEvidence(GEMINI_AUTH_FIX, ctx.now);
    // GOOGLE_GEMINI_BASE_URL (@google/genai's base URL override), else the Gemini API's host;
    // its retry lines ("fetch failed sending request") name none.
    evidence.host = hostOf(envOf(ctx, "GOOGLE_GEMINI_BASE_URL")) ?? "generativelanguage.googleapis.com";
    // Some failures (no auth method) print the JSON error document on stderr, not stdout.
    let stderr = "";
    let stoppedFor: string | undefined;
    let result: GeminiResult | undefined;
    let model = modelFor(ctx);
    const activity = new ActivityQueue();
    const estimate = new StreamEstimate(promptChars(ctx));
    // A model call starts the stream and follows each batch of tool results.
    let awaitingCall = true;
    // An answer streams as deltas of a few words: its first line is the activity, said once it is whole.
    let answer = "";
    let said = false;
    const sayAnswer = () => {
      if (!said && answer.trim() !== "") activity.push("message", answer.trimStart());
      answer = "";
      said = false;
    };
    const wrote = (chars: number) => {
      if (awaitingCall) estimate.call();
      awaitingCall = false;
      estimate.wrote(chars);
    };
    return {
      usageSoFar: () => {
        if (result) return usageOf(result, model);
        const input = estimate.inputTokens;
        const output = estimate.outputTokens;
        return { inputTokens: input, outputTokens: output, costUsd: costOf(model, { input, output }) };
      },
      takeActivity: () => activity.take(),
      onLine(line, stream) {
        if (stream === "stderr") {
          if (stderr.length < MAX_STDERR_CHARS) stderr += line + "\n";
          evidence.add(line);
          if (stoppedFor === undefined && hopelessRetry(line)) {
            stoppedFor = line;
            return "stop";
          }
          return;
        }
        const event = parseJsonLine(line);
        if (!event) return evidence.add(line);
        switch (event.type) {
          case "init":
            if (typeof event.model === "string") model = event.model;
            return;
          case "message":
            if (event.role === "assistant" && typeof event.content === "string") {
              wrote(event.content.length);
              if (said) return;
              answer += event.content;
              if (/\S[^\n]*\n/.test(answer)) {
                activity.push("message", answer.trimStart());
                said = true;
              }
            }
            return;
          case "tool_use": {
            sayAnswer();
            const params = (event.parameters ?? {}) as Record<string, unknown>;
            wrote(JSON.stringify(params).length);
            toolActivity(activity, typeof event.tool_name === "string" ? event.tool_name : "tool", params, ctx.cwd);
            return;
          }
          case "tool_result":
            estimate.read(typeof event.output === "string" ? event.output.length : 0);
            awaitingCall = true;
            return;
          case "error":
            if (typeof event.message === "string") evidence.add(event.message);
            return;
          case "result":
            sayAnswer();
            result = event as GeminiResult;
            return;
          default:
            return;
        }
      },
      finish: (exit) => geminiVerdict(exit, { ctx, evidence, stoppedFor, stderr, result, model }),
    };
  },
};

/** What a gemini attempt's end means, from what its stream and stderr said (see the parser). */
function geminiVerdict(
  exit: ProcessExit,
  seen: { ctx: ToolContext; evidence: ErrorEvidence; stoppedFor: string | undefined; stderr: string; result: GeminiResult | undefined; model: string | undefined },
): ToolVerdict {
  const { ctx, evidence, stoppedFor, stderr, result, model } = seen;
  if (stoppedFor !== undefined) return evidence.fail(`gemini was retrying, stopped by ws at its first such line: ${clip(stoppedFor, 300)}`);
  const error = result?.error ?? errorDocument(stderr)?.error;
  const usage = result ? usageOf(result, model) : undefined;
  const authExit = exit.outcome === "exited" && exit.exitCode === AUTH_EXIT;
  if (error?.message) {
    const kind = authExit || error.code === 401 || error.code === 403 || error.code === AUTH_EXIT ? "auth" : error.code === 429 || looksLikeQuota(error.message) ? "quota" : undefined;
    if (kind) evidence.mark(kind, error.message);
    else evidence.add(error.message);
  } else if (authExit) {
    evidence.mark("auth", `exit ${AUTH_EXIT}: ${GEMINI_EXIT_CODES[AUTH_EXIT]}`);
  }
  if (exit.outcome === "exited" && exit.exitCode === TURN_LIMIT_EXIT && ctx.step.budget.maxTurns !== undefined) {
    return { kind: "budget", message: `gemini ${GEMINI_EXIT_CODES[TURN_LIMIT_EXIT]} (budget max_turns ${ctx.step.budget.maxTurns})`, ...(usage ? { usage } : {}) };
  }
  if (!exitedZero(exit)) {
    const meaning = exit.outcome === "exited" && exit.exitCode !== null ? GEMINI_EXIT_CODES[exit.exitCode] : undefined;
    const detail = error?.message ?? evidence.last;
    return evidence.fail(`gemini ${describeExit(exit)}${meaning ? ` (${meaning})` : ""}${detail ? `: ${detail}` : ""}`, usage);
  }
  if (error || result?.status === "error") return evidence.fail(`gemini reported an error: ${error?.message ?? error?.type ?? "unknown"}`, usage);
  if (!result) return evidence.fail(`gemini printed no result${evidence.last ? `: ${evidence.last}` : ""}`);
  return ok(usage);
}
