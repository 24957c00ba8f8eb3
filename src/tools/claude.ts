import type { Usage } from "../events/run-event.js";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { parseJsonLine } from "./json-line.js";
import { buildPrompt } from "./prompt.js";
import type { ToolAdapter, ToolContext } from "./types.js";
import { ErrorEvidence, clip, describeExit, exitedZero, ok } from "./verdict.js";

/** Reading is always allowed; editing only inside the step's file_scope. */
const READ_TOOLS = ["Read", "Grep", "Glob", "LS"];

/**
 * The --allowedTools list. Permission rules take gitignore-style paths relative to the working
 * directory (code.claude.com/docs/en/permissions, "Read and Edit"). Without a file_scope the step
 * may edit anything (ws warns about it at validation).
 */
export function claudeAllowedTools(ctx: ToolContext): string {
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
  };
}

export const claudeAdapter: ToolAdapter = {
  name: "claude",
  // API key, or the token of `claude setup-token` / an API gateway.
  keyVariables: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
  async prepare(ctx) {
    const model = modelFor(ctx);
    // docs.anthropic.com/en/docs/claude-code/cli-reference:
    //  -p/--print: one answer, then exit; the prompt goes right after it, before the variadic
    //    --allowedTools, which would swallow a later positional;
    //  --output-format stream-json (needs --verbose): one JSON event a line, ending with the
    //    `result` object (subtype, is_error, total_cost_usd, usage);
    //  --permission-mode dontAsk: "only pre-approved tools; anything that would prompt is
    //    denied", for CI and scripts (code.claude.com/docs/en/permission-modes);
    //  --no-session-persistence: no session files kept.
    // Claude Code never commits unless asked to, and has no colour flag: NO_COLOR is set.
    const args = [
      "-p", buildPrompt(ctx),
      "--output-format", "stream-json", "--verbose",
      "--permission-mode", "dontAsk",
      "--allowedTools", claudeAllowedTools(ctx),
      "--no-session-persistence",
    ];
    if (model !== undefined) args.push("--model", model);
    return { command: commandFor(ctx, "claude", "claude"), args, env: agentEnv(ctx) };
  },
  parser() {
    const evidence = new ErrorEvidence();
    let result: ClaudeResult | undefined;
    return {
      onLine(line, stream) {
        if (stream === "stderr") return evidence.add(line);
        const event = parseJsonLine(line);
        if (!event) return evidence.add(line);
        if (event.type === "result") {
          result = event as unknown as ClaudeResult;
        } else if (event.type === "system" && typeof event.subtype === "string" && /retry|error/i.test(event.subtype)) {
          // API retries are reported as system events; their text says why (429, overloaded...).
          evidence.add(line);
        } else if (event.type === "assistant" && typeof event.error === "string") {
          // A synthetic assistant message standing for a failed API call.
          evidence.add(event.error);
        }
      },
      finish(exit) {
        if (!result) {
          return evidence.fail(`claude ${describeExit(exit)} without a result${evidence.last ? `: ${evidence.last}` : ""}`);
        }
        const usage = usageOf(result);
        // is_error is the truth: API errors come back with exit 0 and is_error: true.
        if (result.is_error === true || (result.subtype !== undefined && result.subtype !== "success")) {
          if (result.result) evidence.add(result.result);
          return evidence.fail(`claude ${result.subtype ?? "error"}${result.result ? `: ${clip(result.result, 300)}` : ""}`, usage);
        }
        if (!exitedZero(exit)) return evidence.fail(`claude ${describeExit(exit)}`, usage);
        return ok(usage);
      },
    };
  },
};
