import path from "node:path";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { parseJsonLine } from "./json-line.js";
import { looksLikeAuth, looksLikeNetwork, looksLikeQuota } from "./quota.js";
import { writePromptFile } from "./prompt.js";
import type { ToolAdapter } from "./types.js";
import { ErrorEvidence, describeExit, exitedZero, ok } from "./verdict.js";
import { homeOf } from "./home.js";

function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
    return (value as { message: string }).message;
  }
  return undefined;
}

const CODEX_AUTH_FIX = "set CODEX_API_KEY (or OPENAI_API_KEY), or run `codex login`, for the user running ws";

/**
 * Codex retries a failed stream by itself ("Reconnecting... 2/5 (...)"), and without a network it
 * waits forever ("Reconnecting... waiting for network"): seen with codex-cli 0.171. A 401 or a
 * 429 cannot get better by retrying at once, so ws stops at the first such report; a network
 * error after this many in a row.
 */
const NETWORK_STRIKES = 3;

export const codexAdapter: ToolAdapter = {
  name: "codex",
  keyVariables: ["CODEX_API_KEY", "OPENAI_API_KEY"],
  // Codex keeps config, sessions and logs in $CODEX_HOME, default ~/.codex (the real-CLI suite runs it sandboxed so).
  stateDirs: (env) => [env.CODEX_HOME || `${homeOf(env)}/.codex`],
  async prepare(ctx) {
    const model = modelFor(ctx);
    const prompt = await writePromptFile(ctx); // also makes stepDir, for -o
    // openai/codex codex-rs/exec/src/cli.rs (`codex exec`) and codex-rs/utils/cli shared options:
    //  --json: JSONL events on stdout (turn.completed with usage, turn.failed with error);
    //  --color never; --sandbox workspace-write (edits in the workspace, no approvals in exec;
    //  --full-auto is removed); -C/--cd the working root; --skip-git-repo-check for
    //  `isolation: none` outside a repository; --ephemeral: no session files;
    //  -o/--output-last-message FILE under the state folder; PROMPT "-": read the prompt from
    //  stdin (cli.rs: "If not provided as an argument (or if `-` is used), instructions are read
    //  from stdin"), so its length is not capped by argv.
    // Codex does not commit by itself.
    const args = [
      "exec",
      "--json",
      "--color", "never",
      "--sandbox", "workspace-write",
      "--skip-git-repo-check",
      "--ephemeral",
      "-C", ctx.cwd,
      "-o", path.join(ctx.stepDir, `codex-last-message-${ctx.attempt}.md`),
    ];
    if (model !== undefined) args.push("-m", model);
    args.push("-");
    return { command: commandFor(ctx, "codex", "codex"), args, env: agentEnv(ctx), stdinFile: prompt.file };
  },
  parser(ctx) {
    const evidence = new ErrorEvidence(CODEX_AUTH_FIX, ctx.now);
    let failed: string | undefined;
    let stoppedFor: string | undefined;
    let networkStrikes = 0;
    /** A reconnect report that retrying cannot fix: stop now (see NETWORK_STRIKES). */
    const hopeless = (message: string): boolean => {
      if (!/^Reconnecting\b/i.test(message)) return false;
      if (looksLikeAuth(message) || looksLikeQuota(message)) return true;
      networkStrikes = looksLikeNetwork(message) ? networkStrikes + 1 : 0;
      return networkStrikes >= NETWORK_STRIKES;
    };
    let turns = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    return {
      usageSoFar: () => ({ inputTokens, outputTokens, turns }),
      onLine(line, stream) {
        if (stream === "stderr") return evidence.add(line);
        const event = parseJsonLine(line);
        if (!event) return evidence.add(line);
        if (event.type === "turn.completed") {
          turns++;
          const usage = (event.usage ?? {}) as { input_tokens?: unknown; output_tokens?: unknown };
          if (typeof usage.input_tokens === "number") inputTokens += usage.input_tokens;
          if (typeof usage.output_tokens === "number") outputTokens += usage.output_tokens;
        } else if (event.type === "turn.failed") {
          failed = messageOf(event.error) ?? "turn failed";
          evidence.add(failed);
        } else if (event.type === "error") {
          // Stream errors and retries ("429 Too Many Requests", "usage limit"); fatal only with turn.failed or an exit.
          const message = messageOf(event.message) ?? messageOf(event.error);
          if (message) {
            evidence.add(message);
            if (stoppedFor === undefined && hopeless(message)) {
              stoppedFor = message;
              return "stop";
            }
          }
        }
      },
      finish(exit) {
        const usage = turns > 0 ? { inputTokens, outputTokens, turns } : undefined;
        if (failed !== undefined) return evidence.fail(`codex turn failed: ${failed}`, usage);
        if (stoppedFor !== undefined) return evidence.fail(`codex kept retrying, stopped by ws: ${stoppedFor}`, usage);
        if (!exitedZero(exit)) return evidence.fail(`codex ${describeExit(exit)}${evidence.last ? `: ${evidence.last}` : ""}`, usage);
        if (turns === 0) return evidence.fail(`codex exited without completing a turn${evidence.last ? `: ${evidence.last}` : ""}`);
        return ok(usage);
      },
    };
  },
};
