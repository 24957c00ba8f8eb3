import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adapterFor } from "../../src/tools/registry.js";
import { buildPrompt } from "../../src/tools/prompt.js";
import type { ToolContext, ToolInvocation } from "../../src/tools/types.js";
import { FAKE_TOOLS, fakeEnv, makeContext, makeStep, makeWorkstream, readLog, runTool } from "./helpers.js";

const FEEDBACK = "FAILED tests/test_math.py::test_add - assert add(1, 2) == 3\nE   assert -1 == 3";

function context(tool: string, options: { model?: string; defaultModel?: string; readOnly?: string[]; fileScope?: string[]; attempt?: number; feedback?: string } = {}): ToolContext {
  const step = makeStep({
    tool,
    model: options.model,
    readOnly: options.readOnly ?? [],
    fileScope: options.fileScope ?? ["src/math.py"],
  });
  const ws = makeWorkstream([step], { defaults: { tool: "shell", model: options.defaultModel, retries: 0 } });
  return makeContext(step, { ws, attempt: options.attempt, feedback: options.feedback });
}

/** Runs the adapter's invocation against the fake (on PATH), as the step runner would. */
async function runFake(ctx: ToolContext, inv: ToolInvocation) {
  const { env, log } = fakeEnv(ctx, inv.env);
  const ran = await runTool(inv.command, inv.args, { cwd: ctx.cwd, env, stdinFile: inv.stdinFile });
  const calls = readLog(log);
  return { ran, calls, call: calls[0] };
}

function expectOutsideTree(ctx: ToolContext, inv: ToolInvocation): void {
  // History, prompt and last-message files live under the state folder, never in the tree.
  for (const arg of inv.args.filter((a) => path.isAbsolute(a) && a !== ctx.cwd)) {
    expect(arg.startsWith(ctx.stepDir + path.sep), arg).toBe(true);
  }
}

describe("aider", () => {
  it("builds the documented one-shot argv, with model, read-only files and only literal paths to edit", async () => {
    const ctx = context("aider", { defaultModel: "sonnet", readOnly: ["README.md", "docs/api.md"], fileScope: ["src/math.py", "tests/**/*.py"] });
    const inv = await adapterFor(ctx.workstream, "aider").prepare(ctx);
    expect(inv.command).toBe(path.join(FAKE_TOOLS, "aider"));
    expect(inv.args).toEqual([
      "--message-file", path.join(ctx.stepDir, "prompt-1.md"),
      "--yes-always",
      "--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
      "--no-pretty", "--no-stream", "--no-fancy-input",
      "--no-check-update", "--no-show-release-notes", "--no-analytics", "--no-detect-urls", "--no-suggest-shell-commands",
      "--no-show-model-warnings",
      "--chat-history-file", path.join(ctx.stepDir, "aider.chat.history.md"),
      "--input-history-file", path.join(ctx.stepDir, "aider.input.history"),
      "--map-tokens", "0",
      "--model", "sonnet",
      "--read", "README.md", "--read", "docs/api.md",
      "--", "src/math.py",
    ]);
    expect(inv.env).toMatchObject({ NO_COLOR: "1", TERM: "dumb" });
    expect(fs.readFileSync(path.join(ctx.stepDir, "prompt-1.md"), "utf8")).toBe(buildPrompt(ctx));
    expectOutsideTree(ctx, inv);

    const { ran, call } = await runFake(ctx, inv);
    expect(ran.stderr).toBe("");
    expect(ran.exit.exitCode).toBe(0);
    expect(call?.prompt).toBe(buildPrompt(ctx));
    expect(call?.env).toMatchObject({ NO_COLOR: "1", TERM: "dumb" });
    expect(fs.realpathSync(call?.cwd ?? "")).toBe(fs.realpathSync(ctx.cwd));
  });

  it("omits --model when neither the step nor the defaults name one, and the step's model wins", async () => {
    const none = context("aider");
    const noneArgs = (await adapterFor(none.workstream, "aider").prepare(none)).args;
    expect(noneArgs).not.toContain("--model");
    expect(noneArgs.slice(-2)).toEqual(["--", "src/math.py"]);

    const both = context("aider", { model: "opus", defaultModel: "sonnet" });
    const args = (await adapterFor(both.workstream, "aider").prepare(both)).args;
    expect(args[args.indexOf("--model") + 1]).toBe("opus");
  });

  it("the fake rejects a flag aider does not have, so a wrong argv fails these tests", async () => {
    const ctx = context("aider");
    const inv = await adapterFor(ctx.workstream, "aider").prepare(ctx);
    const { ran } = await runFake(ctx, { ...inv, args: ["--yes", ...inv.args] });
    expect(ran.exit.exitCode).toBe(2);
    expect(ran.stderr).toContain("aider: error: unrecognized arguments: --yes");
  });
});

describe("claude", () => {
  it("builds the documented print-mode argv with edits limited to the file scope", async () => {
    const ctx = context("claude", { model: "sonnet", fileScope: ["src/math.py", "tests/**"] });
    const inv = await adapterFor(ctx.workstream, "claude").prepare(ctx);
    expect(inv.command).toBe(path.join(FAKE_TOOLS, "claude"));
    expect(inv.args).toEqual([
      "-p",
      "--output-format", "stream-json", "--verbose",
      "--permission-mode", "dontAsk",
      "--allowedTools", "Read,Grep,Glob,Edit(src/math.py),Write(src/math.py),Edit(tests/**),Write(tests/**)",
      "--no-session-persistence",
      "--model", "sonnet",
    ]);
    // The prompt is stdin, from a file under the state folder; Claude's own retries are bounded.
    expect(inv.stdinFile).toBe(path.join(ctx.stepDir, "prompt-1.md"));
    expect(inv.env).toMatchObject({ NO_COLOR: "1", TERM: "dumb", CLAUDE_CODE_MAX_RETRIES: "1" });

    const { ran, call } = await runFake(ctx, inv);
    expect(ran.stderr).toBe("");
    expect(ran.exit.exitCode).toBe(0);
    expect(call?.prompt).toBe(buildPrompt(ctx));
  });

  it("without a model has no --model, and without a file scope allows Edit and Write", async () => {
    const ctx = context("claude", { fileScope: [] });
    const inv = await adapterFor(ctx.workstream, "claude").prepare(ctx);
    expect(inv.args).not.toContain("--model");
    expect(inv.args[inv.args.indexOf("--allowedTools") + 1]).toBe("Read,Grep,Glob,Edit,Write");
    const { ran } = await runFake(ctx, inv);
    expect(ran.exit.exitCode).toBe(0);
  });
});

describe("codex", () => {
  it("builds the documented exec argv", async () => {
    const ctx = context("codex", { model: "gpt-5-codex" });
    const inv = await adapterFor(ctx.workstream, "codex").prepare(ctx);
    expect(inv.command).toBe(path.join(FAKE_TOOLS, "codex"));
    expect(inv.args).toEqual([
      "exec",
      "--json",
      "--color", "never",
      "--sandbox", "workspace-write",
      "--skip-git-repo-check",
      "--ephemeral",
      "-C", ctx.cwd,
      "-o", path.join(ctx.stepDir, "codex-last-message-1.md"),
      "-m", "gpt-5-codex",
      "-",
    ]);
    expect(inv.stdinFile).toBe(path.join(ctx.stepDir, "prompt-1.md"));
    expectOutsideTree(ctx, inv);

    const { ran, call } = await runFake(ctx, inv);
    expect(ran.stderr).toBe("");
    expect(ran.exit.exitCode).toBe(0);
    expect(call?.prompt).toBe(buildPrompt(ctx));
    expect(fs.readFileSync(path.join(ctx.stepDir, "codex-last-message-1.md"), "utf8")).toBe("Done.");
  });

  it("without a model has no -m", async () => {
    const ctx = context("codex");
    const inv = await adapterFor(ctx.workstream, "codex").prepare(ctx);
    expect(inv.args).not.toContain("-m");
    expect((await runFake(ctx, inv)).ran.exit.exitCode).toBe(0);
  });
});

describe("gemini", () => {
  it("builds the documented headless argv", async () => {
    const ctx = context("gemini", { defaultModel: "gemini-2.5-pro" });
    const inv = await adapterFor(ctx.workstream, "gemini").prepare(ctx);
    expect(inv.command).toBe(path.join(FAKE_TOOLS, "gemini"));
    expect(inv.args).toEqual(["-p", "", "-o", "stream-json", "--approval-mode", "auto_edit", "--skip-trust", "-m", "gemini-2.5-pro"]);
    expect(inv.stdinFile).toBe(path.join(ctx.stepDir, "prompt-1.md"));
    // Its own retries bounded through the lowest settings layer (the user's settings still win).
    const defaults = JSON.parse(fs.readFileSync(inv.env.GEMINI_CLI_SYSTEM_DEFAULTS_PATH ?? "", "utf8")) as unknown;
    expect(defaults).toEqual({ general: { maxAttempts: 2 } });
    const { ran, call } = await runFake(ctx, inv);
    expect(ran.stderr).toBe("");
    expect(ran.exit.exitCode).toBe(0);
    expect(call?.prompt).toBe(buildPrompt(ctx));
  });

  it("without a model has no -m", async () => {
    const ctx = context("gemini");
    const inv = await adapterFor(ctx.workstream, "gemini").prepare(ctx);
    expect(inv.args).not.toContain("-m");
    expect((await runFake(ctx, inv)).ran.exit.exitCode).toBe(0);
  });
});

describe("retry feedback", () => {
  it.each(["aider", "claude", "codex", "gemini"])("reaches %s in the prompt of the next attempt", async (tool) => {
    const ctx = context(tool, { attempt: 2, feedback: FEEDBACK });
    const inv = await adapterFor(ctx.workstream, tool).prepare(ctx);
    const { ran, call } = await runFake(ctx, inv);
    expect(ran.exit.exitCode).toBe(0);
    expect(call?.prompt).toContain("This is attempt 2.");
    expect(call?.prompt).toContain(FEEDBACK);
  });
});

describe("shell", () => {
  it("runs the step's command line through /bin/sh", async () => {
    const step = makeStep({ tool: "shell", run: "echo hi && exit 3", env: { A: "1" } });
    const ctx = makeContext(step);
    const inv = await adapterFor(ctx.workstream, "shell").prepare(ctx);
    expect(inv).toEqual({ command: "/bin/sh", args: ["-c", "echo hi && exit 3"], env: { A: "1" } });
  });
});
