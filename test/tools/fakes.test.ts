import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FAKE_TOOLS, readLog, runTool, tempDir } from "./helpers.js";

function setup(plan: Record<string, unknown[]>) {
  const dir = tempDir("ws-fakes-");
  const cwd = path.join(dir, "work");
  fs.mkdirSync(cwd);
  const planFile = path.join(dir, "plan.json");
  fs.writeFileSync(planFile, JSON.stringify(plan));
  const log = path.join(dir, "calls.jsonl");
  return { cwd, log, env: { ...process.env, FAKE_TOOL_PLAN: planFile, FAKE_TOOL_LOG: log } };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("fake tools", () => {
  it("act per invocation of the plan (the last action repeats) and write files relative to cwd", async () => {
    const { cwd, log, env } = setup({ gemini: [{ quota: true }, { write: { path: "src/a.txt", content: "A" } }] });
    const args = ["-p", "hi", "-o", "json"];
    const first = await runTool(path.join(FAKE_TOOLS, "gemini"), args, { cwd, env });
    const second = await runTool(path.join(FAKE_TOOLS, "gemini"), args, { cwd, env });
    const third = await runTool(path.join(FAKE_TOOLS, "gemini"), args, { cwd, env });
    expect(first.exit.exitCode).toBe(1);
    expect(first.stdout).toContain("TerminalQuotaError");
    expect([second.exit.exitCode, third.exit.exitCode]).toEqual([0, 0]);
    expect(fs.readFileSync(path.join(cwd, "src/a.txt"), "utf8")).toBe("A");
    expect(readLog(log).map((c) => c.invocation)).toEqual([1, 2, 3]);
  });

  it("log a rejected argv with the tool's own usage error", async () => {
    const { cwd, log, env } = setup({});
    const ran = await runTool(path.join(FAKE_TOOLS, "codex"), ["exec", "--full-autoo", "x"], { cwd, env });
    expect(ran.exit.exitCode).toBe(2);
    expect(ran.stderr).toContain("error: unexpected argument '--full-autoo' found");
    expect(readLog(log)[0]?.error).toContain("--full-autoo");
  });

  it("spawn a grandchild that outlives them, and hang until killed", async () => {
    const { cwd, log, env } = setup({ claude: [{ grandchild: true }, { hang: true }] });
    const args = ["-p", "hi", "--output-format", "json"];
    // The grandchild holds stdout open, so wait for the fake's exit, not for its streams.
    const first = spawn(path.join(FAKE_TOOLS, "claude"), args, { cwd, env, stdio: "ignore" });
    const code = await new Promise((resolve) => first.on("exit", resolve));
    expect(code).toBe(0);
    const grandchild = readLog(log)[0]?.grandchildPid;
    expect(grandchild).toBeTypeOf("number");
    expect(alive(grandchild as number)).toBe(true);
    process.kill(grandchild as number, "SIGKILL");

    const hung = spawn(path.join(FAKE_TOOLS, "claude"), args, { cwd, env, stdio: "ignore" });
    const ended = new Promise((resolve) => hung.on("exit", (_code, signal) => resolve(signal)));
    await expect.poll(() => readLog(log).length, { timeout: 20_000 }).toBe(2);
    expect(hung.exitCode).toBeNull();
    hung.kill("SIGKILL");
    expect(await ended).toBe("SIGKILL");
  });
});
