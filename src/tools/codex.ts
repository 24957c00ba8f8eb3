import fs from "node:fs";
import path from "node:path";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { parseJsonLine } from "./json-line.js";
import { looksLikeAuth, looksLikeNetwork, looksLikeQuota } from "./quota.js";
import { promptChars, writePromptFile } from "./prompt.js";
import type { ToolAdapter, ToolContext } from "./types.js";
import { ErrorEvidence, describeExit, exitedZero, hostOf, ok } from "./verdict.js";
import { homeOf } from "./home.js";
import { ActivityQueue, StreamEstimate, shownPath } from "./activity.js";
import { costOf } from "./prices.js";

function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
    return (value as { message: string }).message;
  }
  return undefined;
}

/**
 * A `--json` item (openai/codex codex-rs/exec/src/exec_events.rs, ThreadItemDetails):
 * `command_execution` {command, aggregated_output, exit_code, status}, `file_change` {changes:
 * [{path, kind: add|delete|update}], status}, `mcp_tool_call` {server, tool}, `web_search`
 * {query}, `agent_message` {text}, `reasoning` {text}, `todo_list`, `error`.
 */
interface CodexItem {
  id?: string;
  type?: string;
  command?: string;
  aggregated_output?: string;
  changes?: Array<{ path?: string; kind?: string }>;
  server?: string;
  tool?: string;
  query?: string;
  text?: string;
}

const CHANGE_VERBS: Readonly<Record<string, string>> = { add: "Add", delete: "Delete", update: "Edit" };

/** An item as an activity: a command as it starts, a file change, a tool call, a message once written. */
function itemActivity(queue: ActivityQueue, item: CodexItem, cwd: string): void {
  switch (item.type) {
    case "command_execution":
      return queue.push("command", `$ ${item.command ?? ""}`);
    case "file_change":
      for (const change of item.changes ?? []) queue.push("edit", `${CHANGE_VERBS[change.kind ?? ""] ?? "Edit"} ${shownPath(change.path ?? "", cwd)}`);
      return;
    case "mcp_tool_call":
      return queue.push("tool", `${item.server ?? "mcp"}.${item.tool ?? "tool"}`);
    case "web_search":
      return queue.push("tool", `web search: ${item.query ?? ""}`);
    case "agent_message":
      return queue.push("message", item.text ?? "");
    default:
      return; // reasoning, todo lists, errors (errors are evidence): not activity
  }
}

/** Items whose result goes back to the model in a new call. */
const TOOL_ITEMS = new Set(["command_execution", "file_change", "mcp_tool_call", "web_search"]);

const CODEX_AUTH_FIX = "set CODEX_API_KEY (or OPENAI_API_KEY), or run `codex login`, for the user running ws";

/**
 * The host codex sends model calls to: the `base_url` of the `model_provider` chosen in
 * $CODEX_HOME/config.toml (codex-rs/core/src/model_provider_info.rs), else the built-in OpenAI
 * provider's top-level `openai_base_url`, else the OpenAI API. Codex 0.171 ignores an
 * OPENAI_BASE_URL variable (tried: it still resolved its default host). Its offline lines
 * ("Connection failed: error sending request") name no host. Read only once an attempt ended
 * `network`; a config it cannot read gives the default.
 */
function codexApiHost(ctx: ToolContext): string {
  const env = { ...ctx.env, ...ctx.step.env };
  try {
    const toml = fs.readFileSync(path.join(env.CODEX_HOME || path.join(homeOf(env), ".codex"), "config.toml"), "utf8");
    // Top-level keys come before the first [table].
    const top = toml.split(/^\s*\[/m)[0] ?? "";
    const provider = /^\s*model_provider\s*=\s*"([^"]+)"/m.exec(top)?.[1] ?? "openai";
    const section = toml.split(/^\s*\[/m).find((part) => part.startsWith(`model_providers.${provider}]`) || part.startsWith(`model_providers."${provider}"]`));
    const base = section === undefined ? (provider === "openai" ? /^\s*openai_base_url\s*=\s*"([^"]+)"/m.exec(top)?.[1] : undefined) : /^\s*base_url\s*=\s*"([^"]+)"/m.exec(section)?.[1];
    return hostOf(base) ?? "api.openai.com";
  } catch {
    return "api.openai.com";
  }
}

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
    /**
     * Codex retries a failed stream by itself ("Reconnecting... 2/5 (...)"), and without a
     * network it waits forever: codex-cli 0.171 offline prints "Reconnecting... waiting for
     * network (Connection failed: error sending request)" every few seconds, for a refused port
     * and an unknown host alike. A 401, a 429 or no network cannot get better by retrying at
     * once, so ws stops at the first such report (ws decides whether the tool waits:
     * circuit_breaker.network_wait).
     */
    const hopeless = (message: string): boolean => /^Reconnecting\b/i.test(message) && (looksLikeAuth(message) || looksLikeQuota(message) || looksLikeNetwork(message));
    let turns = 0;
    let inputTokens = 0;
    let cachedTokens = 0;
    let outputTokens = 0;
    // `codex exec` is one turn: its tokens come with turn.completed, at the end. Until then the
    // budget watches an estimate from the items streamed (activity.ts, StreamEstimate).
    const estimate = new StreamEstimate(promptChars(ctx));
    let estimatedAtTurn = { input: 0, output: 0 };
    const model = modelFor(ctx);
    const activity = new ActivityQueue();
    const seen = new Set<string>();
    const usageSoFar = () => {
      const input = inputTokens + estimate.inputTokens - estimatedAtTurn.input;
      const output = outputTokens + estimate.outputTokens - estimatedAtTurn.output;
      // Codex reports no cost: the price table's, for the model the step names (codex's own default is not in its stream).
      return { inputTokens: input, outputTokens: output, turns, costUsd: costOf(model, { input: input - cachedTokens, cachedInput: cachedTokens, output }) };
    };
    return {
      usageSoFar,
      takeActivity: () => activity.take(),
      onLine(line, stream) {
        if (stream === "stderr") return evidence.add(line);
        const event = parseJsonLine(line);
        if (!event) return evidence.add(line);
        if (event.type === "turn.started") {
          estimate.call();
        } else if (event.type === "item.started" || event.type === "item.completed") {
          const item = (event.item ?? {}) as CodexItem;
          // A command is reported as it starts; an item seen only once completed (a file change, a message) then.
          if (item.id === undefined || !seen.has(item.id)) {
            if (item.id !== undefined) seen.add(item.id);
            itemActivity(activity, item, ctx.cwd);
            estimate.wrote((item.command?.length ?? 0) + (item.text?.length ?? 0) + (item.query?.length ?? 0));
          }
          if (event.type === "item.completed" && item.type !== undefined && TOOL_ITEMS.has(item.type)) {
            estimate.read(item.aggregated_output?.length ?? 0);
            estimate.call();
          }
        } else if (event.type === "turn.completed") {
          turns++;
          const usage = (event.usage ?? {}) as { input_tokens?: unknown; cached_input_tokens?: unknown; output_tokens?: unknown };
          if (typeof usage.input_tokens === "number") inputTokens += usage.input_tokens;
          if (typeof usage.cached_input_tokens === "number") cachedTokens += usage.cached_input_tokens;
          if (typeof usage.output_tokens === "number") outputTokens += usage.output_tokens;
          // The turn's real figures replace what was estimated for it.
          estimatedAtTurn = { input: estimate.inputTokens, output: estimate.outputTokens };
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
        const costUsd = costOf(model, { input: inputTokens - cachedTokens, cachedInput: cachedTokens, output: outputTokens });
        const usage = turns > 0 ? { inputTokens, outputTokens, turns, ...(costUsd === undefined ? {} : { costUsd }) } : undefined;
        if (failed !== undefined) return evidence.fail(`codex turn failed: ${failed}`, usage);
        if (evidence.network !== undefined) evidence.host = codexApiHost(ctx);
        if (stoppedFor !== undefined) return evidence.fail(`codex was retrying, stopped by ws at its first such line: ${stoppedFor}`, usage);
        if (!exitedZero(exit)) return evidence.fail(`codex ${describeExit(exit)}${evidence.last ? `: ${evidence.last}` : ""}`, usage);
        if (turns === 0) return evidence.fail(`codex exited without completing a turn${evidence.last ? `: ${evidence.last}` : ""}`);
        return ok(usage);
      },
    };
  },
};
