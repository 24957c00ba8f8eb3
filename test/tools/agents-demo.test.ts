import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cleanEnv, ws } from "../helpers/cli.js";
import { tempDir } from "./helpers.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const AGENT = path.join(REPO, "examples/fake-agent/fake-agent.mjs");

async function agent(cwd: string, prompt: string, files: string[]) {
  const promptFile = path.join(tempDir(), "prompt.md");
  fs.writeFileSync(promptFile, prompt);
  return run(process.execPath, [AGENT, "--prompt-file", promptFile, ...files], { cwd });
}

describe("the scripted fake agent", () => {
  it("writes a slightly wrong draft first and the right file once the prompt carries a failure", async () => {
    const cwd = tempDir();
    const file = path.join(cwd, "demo/agents/word-count.mjs");
    await agent(cwd, "# Create a word counter\n", ["demo/agents/word-count.mjs"]);
    const draft = fs.readFileSync(file, "utf8");
    await agent(cwd, "# Create a word counter\n\n## Previous attempt failed\n7 !== 2\n", ["demo/agents/word-count.mjs"]);
    const final = fs.readFileSync(file, "utf8");
    expect(final).not.toBe(draft);
    const { wordCount } = (await import(file)) as { wordCount: (text: string) => number };
    expect(wordCount("  two   words ")).toBe(2);
  });

  it("refuses a file it has no recipe for, and unknown options", async () => {
    await expect(agent(tempDir(), "x", ["other.txt"])).rejects.toMatchObject({ code: 1 });
    await expect(run(process.execPath, [AGENT, "--nope"], { cwd: tempDir() })).rejects.toMatchObject({ code: 2 });
  });
});

describe("ws-agents-demo", () => {
  it("runs with no API key: edits, a test failed then fixed on retry, one commit per step", async () => {
    const dir = tempDir("ws-demo-");
    fs.mkdirSync(path.join(dir, "workstreams"));
    fs.copyFileSync(path.join(REPO, "workstreams/ws-agents-demo.json"), path.join(dir, "workstreams/ws-agents-demo.json"));
    fs.cpSync(path.join(REPO, "examples/fake-agent"), path.join(dir, "examples/fake-agent"), { recursive: true });
    const git = (...args: string[]) => run("git", args, { cwd: dir });
    await git("init", "-q");
    await git("add", ".");
    await git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");

    const env = cleanEnv({ CI: "1", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" });
    const result = ws(["run", "--ws-id", "ws-agents-demo"], { cwd: dir, env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/attempt 1 of step-02-word-count failed/);

    const { stdout: status } = ws(["status", "--ws-id", "ws-agents-demo", "--json"], { cwd: dir, env });
    const state = JSON.parse(status) as { status: string; steps: Record<string, { state: string; attempts: number }> };
    expect(state.status).toBe("passed");
    expect(Object.fromEntries(Object.entries(state.steps).map(([id, s]) => [id, [s.state, s.attempts]]))).toEqual({
      "step-01-slugify": ["passed", 1],
      "step-02-word-count": ["passed", 2],
      "step-03-title-card": ["passed", 1],
    });
    const { stdout: log } = await git("log", "--no-merges", "--format=%s", "ws/ws-agents-demo");
    // The independent steps join in the order they passed, often within one second: git log may list either first.
    const lines = log.trim().split("\n");
    expect([lines[0], new Set(lines.slice(1, 3)), ...lines.slice(3)]).toEqual([
      "ws(step-03-title-card): Combine both into a title card",
      new Set(["ws(step-02-word-count): Create a word counter", "ws(step-01-slugify): Create a slugify helper"]),
      "init",
    ]);
    const prompt2 = fs.readFileSync(path.join(dir, ".worktrees/ws-agents-demo/steps/step-02-word-count/prompt-2.md"), "utf8");
    expect(prompt2).toContain("7 !== 2");
    // The user's checkout is untouched: the work is on the branch.
    expect(fs.existsSync(path.join(dir, "demo"))).toBe(false);
  });
});
