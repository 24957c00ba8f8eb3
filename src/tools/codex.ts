import fs from "node:fs/promises";
import path from "node:path";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { parseJsonLine } from "./json-line.js";
import { buildPrompt } from "./prompt.js";
import type { ToolAdapter } from "./types.js";
import { ErrorEvidence, describeExit, exitedZero, ok } from "./verdict.js";

function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
    return (value as { message: string }).message;
  }
  return undefined;
}

export const codexAdapter: ToolAdapter = {
  name: "codex",
  keyVariables: ["CODEX_API_KEY", "OPENAI_API_KEY"],
  async prepare(ctx) {
    const model = modelFor(ctx);
    await fs.mkdir(ctx.stepDir, { recursive: true }); // for -o
    // openai/codex codex-rs/exec/src/cli.rs (`codex exec`) and codex-rs/utils/cli shared options:
    //  --json: JSONL events on stdout (turn.completed with usage, turn.failed with error);
    //  --color never; --sandbox workspace-write (edits in the workspace, no approvals in exec;
    //  --full-auto is removed); -C/--cd the working root; --skip-git-repo-check for
    //  `isolation: none` outside a repository; --ephemeral: no session files;
    //  -o/--output-last-message FILE under the state folder; PROMPT as the last positional.
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
    args.push(buildPrompt(ctx));
    return { command: commandFor(ctx, "codex", "codex"), args, env: agentEnv(ctx) };
  },
  parser() {
    const evidence = new ErrorEvidence();
    let failed: string | undefined;
    let turns = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    return {
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
          if (message) evidence.add(message);
        }
      },
      finish(exit) {
        const usage = turns > 0 ? { inputTokens, outputTokens } : undefined;
        if (failed !== undefined) return evidence.fail(`codex turn failed: ${failed}`, usage);
        if (!exitedZero(exit)) return evidence.fail(`codex ${describeExit(exit)}${evidence.last ? `: ${evidence.last}` : ""}`, usage);
        if (turns === 0) return evidence.fail(`codex exited without completing a turn${evidence.last ? `: ${evidence.last}` : ""}`);
        return ok(usage);
      },
    };
  },
};
