import type { Usage } from "../events/run-event.js";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { buildPrompt } from "./prompt.js";
import type { ToolAdapter } from "./types.js";
import { ErrorEvidence, describeExit, exitedZero, ok } from "./verdict.js";

/**
 * Exit codes of a headless run (google-gemini/gemini-cli packages/core/src/utils/errors.ts,
 * "Exit Code Reference"; geminicli.com/docs/cli/headless "Exit codes").
 */
export const GEMINI_EXIT_CODES: Readonly<Record<number, string>> = {
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

/** The `-o json` document is pretty-printed over many lines; it is parsed whole at the end. */
const MAX_STDOUT_CHARS = 8 * 1024 * 1024;

interface GeminiOutput {
  response?: unknown;
  stats?: { models?: Record<string, { tokens?: { prompt?: number; candidates?: number } }> };
  error?: { type?: string; message?: string; code?: number | string };
}

function parseOutput(stdout: string): GeminiOutput | undefined {
  // Anything printed before the document (a notice) is skipped: start at the first line opening it.
  const start = stdout.search(/^\{/m);
  if (start < 0) return undefined;
  try {
    const value: unknown = JSON.parse(stdout.slice(start));
    return value !== null && typeof value === "object" ? (value as GeminiOutput) : undefined;
  } catch {
    return undefined;
  }
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
    const args = ["-p", buildPrompt(ctx), "-o", "json", "--approval-mode", "auto_edit", "--skip-trust"];
    if (model !== undefined) args.push("-m", model);
    return { command: commandFor(ctx, "gemini", "gemini"), args, env: agentEnv(ctx) };
  },
  parser() {
    const evidence = new ErrorEvidence();
    let stdout = "";
    return {
      onLine(line, stream) {
        if (stream === "stderr") return evidence.add(line);
        if (stdout.length < MAX_STDOUT_CHARS) stdout += line + "\n";
      },
      finish(exit) {
        const output = parseOutput(stdout);
        const usage = output ? usageOf(output) : undefined;
        const error = output?.error;
        if (error?.message) evidence.add(error.message);
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
