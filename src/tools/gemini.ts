import type { Usage } from "../events/run-event.js";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import fs from "node:fs/promises";
import path from "node:path";
import { writePromptFile } from "./prompt.js";
import type { ToolAdapter } from "./types.js";
import { looksLikeAuth, looksLikeNetwork, looksLikeQuota } from "./quota.js";
import { ErrorEvidence, clip, describeExit, exitedZero, ok } from "./verdict.js";
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

/** The `-o json` document is pretty-printed over many lines; it is parsed whole at the end. */
const MAX_STDOUT_CHARS = 8 * 1024 * 1024;

interface GeminiOutput {
  response?: unknown;
  stats?: { models?: Record<string, { tokens?: { prompt?: number; candidates?: number } }> };
  error?: { type?: string; message?: string; code?: number | string };
}

function parseOutput(stdout: string): GeminiOutput | undefined {
  // Anything printed before the document (a notice, a stack trace) is skipped: the document is
  // the first line opening with "{" from which the rest parses whole.
  for (const match of stdout.matchAll(/^\{/gm)) {
    try {
      const value: unknown = JSON.parse(stdout.slice(match.index));
      if (value !== null && typeof value === "object") return value as GeminiOutput;
    } catch {
      // not this one
    }
  }
  return undefined;
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
function errorDocument(stderr: string): GeminiOutput | undefined {
  const doc = parseOutput(stderr);
  return doc?.error ? doc : undefined;
}

function usageOf(output: GeminiOutput): Usage | undefined {
  const models = Object.values(output.stats?.models ?? {});
  if (models.length === 0) return undefined;
  let inputTokens = 0;
  let outputTokens = 0;
  for (const model of models) {
    inputTokens += model.tokens?.prompt ?? 0;
    outputTokens += model.tokens?.candidates ?? 0;
  }
  return { inputTokens, outputTokens };
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
    //  -o/--output-format json: one JSON object {response, stats, error};
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
    const args = ["-p", "", "-o", "json", "--approval-mode", "auto_edit", "--skip-trust"];
    if (model !== undefined) args.push("-m", model);
    const env = { GEMINI_CLI_SYSTEM_DEFAULTS_PATH: defaults, ...agentEnv(ctx) };
    return { command: commandFor(ctx, "gemini", "gemini"), args, env, stdinFile: prompt.file };
  },
  parser(ctx) {
    const evidence = new ErrorEvidence(GEMINI_AUTH_FIX, ctx.now);
    let stdout = "";
    // Some failures (no auth method) print the JSON error document on stderr, not stdout.
    let stderr = "";
    let stoppedFor: string | undefined;
    return {
      onLine(line, stream) {
        if (stream === "stderr") {
          if (stderr.length < MAX_STDOUT_CHARS) stderr += line + "\n";
          evidence.add(line);
          if (stoppedFor === undefined && hopelessRetry(line)) {
            stoppedFor = line;
            return "stop";
          }
          return;
        }
        if (stdout.length < MAX_STDOUT_CHARS) stdout += line + "\n";
      },
      finish(exit) {
        if (stoppedFor !== undefined) return evidence.fail(`gemini kept retrying, stopped by ws: ${clip(stoppedFor, 300)}`);
        const output = parseOutput(stdout) ?? errorDocument(stderr);
        const usage = output ? usageOf(output) : undefined;
        const error = output?.error;
        const authExit = exit.outcome === "exited" && exit.exitCode === AUTH_EXIT;
        if (error?.message) {
          const kind = authExit || error.code === 401 || error.code === 403 || error.code === AUTH_EXIT ? "auth" : error.code === 429 ? "quota" : undefined;
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
        if (error) return evidence.fail(`gemini reported an error: ${error.message ?? error.type ?? "unknown"}`, usage);
        if (!output) return evidence.fail(`gemini printed no JSON result${evidence.last ? `: ${evidence.last}` : ""}`);
        return ok(usage);
      },
    };
  },
};
