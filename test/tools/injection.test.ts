import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adapterFor } from "../../src/tools/registry.js";
import { buildPrompt } from "../../src/tools/prompt.js";
import { FAKE_TOOLS, fakeEnv, makeContext, makeStep, makeWorkstream, readLog, runTool } from "./helpers.js";

// Everything a shell would act on: substitution, backticks, quotes, separators, newlines, globs.
const HOSTILE = [
  "Create src/math.py $(touch pwned) `touch pwned`",
  "He said \"don't\" and 'do'; rm -rf x && touch pwned || touch pwned",
  "line one\nline two\n\ttabbed $HOME ${PATH} * ? [a] {files} {prompt}",
];

const CUSTOM = {
  // Prompt as an argument and as a file, through custom tools built on the fakes.
  "prompt-arg": { command: path.join(FAKE_TOOLS, "gemini"), args: ["-p", "{prompt}", "-o", "json"], env: {} },
  "prompt-file": { command: path.join(FAKE_TOOLS, "aider"), args: ["--yes-always", "--message-file", "{prompt_file}", "{files}"], env: {} },
};

describe("prompt injection", () => {
  it.each(["aider", "claude", "codex", "gemini", "prompt-arg", "prompt-file"])("is inert through %s: the tool gets the text byte for byte", async (tool) => {
    const step = makeStep({ tool, tasks: HOSTILE, description: "Do `it` $(now)" });
    const ws = makeWorkstream([step], { tools: CUSTOM });
    const ctx = makeContext(step, { ws });
    fs.mkdirSync(path.join(ctx.cwd, "x"));

    const inv = await adapterFor(ws, tool).prepare(ctx);
    const { env, log } = fakeEnv(ctx, inv.env);
    const ran = await runTool(inv.command, inv.args, { cwd: ctx.cwd, env, stdinFile: inv.stdinFile });

    expect(ran.stderr).toBe("");
    expect(ran.exit.exitCode).toBe(0);
    const [call] = readLog(log);
    expect(call?.prompt).toBe(buildPrompt(ctx));
    for (const task of HOSTILE) expect(call?.prompt).toContain(task);
    expect(fs.existsSync(path.join(ctx.cwd, "pwned"))).toBe(false);
    expect(fs.existsSync(path.join(ctx.cwd, "x"))).toBe(true);
  });
});
