import fs from "node:fs";
import path from "node:path";
import type { Usage } from "../events/run-event.js";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { writePromptFile } from "./prompt.js";
import type { ToolAdapter } from "./types.js";
import { ErrorEvidence, describeExit, exitedZero, ok } from "./verdict.js";
import { homeOf } from "./home.js";
import { ActivityQueue } from "./activity.js";

/** A file_scope entry that is a glob, not a path: aider would create a file named `src/**`. */
const GLOB = /[*?[\]{}]/;

/**
 * `Tokens: 12k sent, 1.2k cache hit, 250 received. Cost: $0.01 message, $0.05 session.` —
 * printed after every exchange (aider/coders/base_coder.py, calculate_and_show_tokens_and_cost).
 */
const TOKENS_LINE = /Tokens: ([\d.]+[kKmM]?) sent\b.*?([\d.]+[kKmM]?) received\.(?:\s*Cost: \$([\d.]+) message, \$([\d.]+) session\.)?/;

/**
 * Lines aider prints when the API call fails (aider/exceptions.py: the litellm exception and a
 * hint like "The API provider has rate limited you."; aider/sendchat.py: "Retrying in N seconds").
 * It then still exits 0 (Aider-AI/aider#5552, #3918), so these lines are how a failure shows.
 */
const API_ERROR_LINE = /\blitellm\.\w*(?:Error|Exception)\b|\bAPI ?Error\b|\bThe API provider\b|\bRetrying in [\d.]+ seconds\b/i;

/**
 * What aider says it did, as plain lines: `Applied edit to src/x.py` (aider/coders/base_coder.py,
 * apply_updates), `Commit 1a2b3c4 feat: ...` (aider/repo.py, commit: only when the user's config
 * turns auto-commits back on), `Added src/x.py to the chat.` (aider/coders/base_coder.py) and
 * `Running <command>` for a shell command it was allowed to run (base_coder.py, run_shell_commands).
 */
const APPLIED = /^Applied edit to (.+)$/;
const COMMIT = /^Commit ([0-9a-f]{7,40}) (.+)$/;
const ADDED = /^Added (.+) to the chat\.?$/;
const RUNNING = /^Running (.+)$/;

function lineActivity(queue: ActivityQueue, line: string): void {
  const text = line.trim();
  let m: RegExpExecArray | null;
  if ((m = APPLIED.exec(text))) queue.push("edit", `Edit ${m[1] ?? ""}`);
  else if ((m = COMMIT.exec(text))) queue.push("tool", `Commit ${m[1] ?? ""} ${m[2] ?? ""}`);
  else if ((m = ADDED.exec(text))) queue.push("read", `Added ${m[1] ?? ""}`);
  else if ((m = RUNNING.exec(text))) queue.push("command", `$ ${m[1] ?? ""}`);
}

function count(text: string): number {
  const n = Number.parseFloat(text);
  const unit = text.at(-1)?.toLowerCase();
  return Math.round(unit === "k" ? n * 1e3 : unit === "m" ? n * 1e6 : n);
}

/**
 * Without --model aider picks one from the first key it finds (aider/onboarding.py,
 * try_to_select_default_model); with none it starts an OpenRouter OAuth sign-in that waits five
 * minutes for a browser. These are the keys it looks for, plus its own AIDER_MODEL.
 */
const AIDER_MODEL_KEYS = ["AIDER_MODEL", "OPENROUTER_API_KEY", "ANTHROPIC_API_KEY", "DEEPSEEK_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "VERTEXAI_PROJECT"];

/** .aider.conf.yml may name a model: aider reads it from the home folder, the repository root and the cwd (aider/args.py). */
function hasAiderConfig(env: NodeJS.ProcessEnv, cwd: string): boolean {
  const dirs = [env.HOME, cwd].filter((d): d is string => Boolean(d));
  return dirs.some((dir) => fs.existsSync(path.join(dir, ".aider.conf.yml")));
}

export const aiderAdapter: ToolAdapter = {
  name: "aider",
  // aider reaches any provider (through litellm) and the model names which: every provider key.
  keyVariables: ["*_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
  // aider writes its history files into the repository (the step's worktree) and caches under ~/.aider.
  stateDirs: (env) => [`${homeOf(env)}/.aider`],
  preflight(step, ws, env) {
    if ((step.model ?? ws.defaults.model) !== undefined) return undefined;
    if (AIDER_MODEL_KEYS.some((key) => env[key] || step.env[key])) return undefined;
    if (hasAiderConfig(env, path.dirname(path.dirname(ws.file)))) return undefined;
    return {
      message: `step "${step.id}" runs aider with no model and no API key: aider would wait for a browser sign-in (OpenRouter)`,
      fix: `set "model" on the step or in "defaults" and its key (e.g. ANTHROPIC_API_KEY), or set AIDER_MODEL`,
    };
  },
  async prepare(ctx) {
    const prompt = await writePromptFile(ctx);
    const model = modelFor(ctx);
    const args = [
      // One-shot from a file: "process reply, then exit (disables chat mode)" (aider/args.py --message-file).
      "--message-file", prompt.file,
      // aider/args.py: --yes-always, and the BooleanOptionalAction --no-* forms of each option below.
      "--yes-always",
      // ws owns commits and .gitignore.
      "--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
      // Plain output for a log file.
      "--no-pretty", "--no-stream", "--no-fancy-input",
      // Nothing that could stop to ask, upgrade itself or open a browser.
      "--no-check-update", "--no-show-release-notes", "--no-analytics", "--no-detect-urls", "--no-suggest-shell-commands",
      // With --yes-always, a model warning's "Open documentation URL?" would be answered yes.
      "--no-show-model-warnings",
      // History files under the state folder, not in the tree. The repo map would write its
      // .aider.tags.cache.v*/ into the tree (aider/repomap.py); map tokens 0 skips it
      // (base_coder.py builds a RepoMap only when map_tokens > 0); the prompt names the files.
      "--chat-history-file", path.join(ctx.stepDir, "aider.chat.history.md"),
      "--input-history-file", path.join(ctx.stepDir, "aider.input.history"),
      "--map-tokens", "0",
    ];
    if (model !== undefined) args.push("--model", model);
    for (const file of ctx.step.readOnly) args.push("--read", file);
    // Files to edit are positionals (aider/args.py "files", nargs="*"); "--" keeps a name
    // starting with "-" from being read as an option. Globs are only in the prompt.
    const files = ctx.step.fileScope.filter((entry) => !GLOB.test(entry));
    if (files.length > 0) args.push("--", ...files);
    return { command: commandFor(ctx, "aider", "aider"), args, env: agentEnv(ctx) };
  },
  parser(ctx) {
    const evidence = new ErrorEvidence("set the API key of the step's model for the user running ws (e.g. ANTHROPIC_API_KEY, OPENAI_API_KEY)", ctx.now);
    let apiErrorPending: string | undefined;
    let sent = 0;
    let received = 0;
    let sessionCost: number | undefined;
    let exchanges = 0;
    const activity = new ActivityQueue();
    return {
      // aider prints its tokens and its own cost after every exchange: the budget follows them as they come.
      usageSoFar: () => (exchanges > 0 ? { costUsd: sessionCost, inputTokens: sent, outputTokens: received } : undefined),
      takeActivity: () => activity.take(),
      onLine(line, stream) {
        if (stream === "stdout") lineActivity(activity, line);
        const tokens = TOKENS_LINE.exec(line);
        if (tokens) {
          exchanges++;
          sent += count(tokens[1] ?? "0");
          received += count(tokens[2] ?? "0");
          if (tokens[4] !== undefined) sessionCost = Number.parseFloat(tokens[4]);
          // A later successful exchange means aider's own retry worked.
          apiErrorPending = undefined;
          return;
        }
        if (API_ERROR_LINE.test(line)) {
          apiErrorPending ??= line.trim();
          evidence.add(line);
        } else if (stream === "stderr") {
          evidence.add(line);
        }
      },
      finish(exit) {
        const usage: Usage | undefined = exchanges > 0 ? { costUsd: sessionCost, inputTokens: sent, outputTokens: received } : undefined;
        if (!exitedZero(exit)) return evidence.fail(`aider ${describeExit(exit)}${evidence.last ? `: ${evidence.last}` : ""}`, usage);
        if (apiErrorPending !== undefined) return evidence.fail(`aider reported an API error: ${apiErrorPending}`, usage);
        return ok(usage);
      },
    };
  },
};
