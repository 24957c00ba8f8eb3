import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expandArgs } from "../../src/tools/custom.js";
import { buildPrompt } from "../../src/tools/prompt.js";
import { adapterFor } from "../../src/tools/registry.js";
import { makeContext, makeStep, makeWorkstream, tempDir } from "./helpers.js";

const values = { prompt: "P {files}", promptFile: "/state/prompt-1.md", model: "m1", cwd: "/work", files: ["a.py", "b c.py"], readOnly: ["README.md"] };

describe("expandArgs", () => {
  it("fans {files} and {read_only} out to one element per entry, also inside a larger string", () => {
    expect(expandArgs(["{files}", "--read={read_only}", "-f", "{prompt_file}"], values)).toEqual(["a.py", "b c.py", "--read=README.md", "-f", "/state/prompt-1.md"]);
  });

  it("gives no element for an empty list", () => {
    expect(expandArgs(["x", "{files}", "--ro={read_only}", "y"], { ...values, files: [], readOnly: [] })).toEqual(["x", "y"]);
  });

  it("substitutes in place, once: text inserted is not expanded again", () => {
    expect(expandArgs(["--model={model}", "{prompt}", "in {cwd}!"], values)).toEqual(["--model=m1", "P {files}", "in /work!"]);
  });

  it("drops an element naming {model} when there is no model", () => {
    expect(expandArgs(["--model={model}", "run"], { ...values, model: undefined })).toEqual(["run"]);
  });

  it("leaves unknown placeholders as written", () => {
    expect(expandArgs(["{nope}", "--x={also_not}"], values)).toEqual(["{nope}", "--x={also_not}"]);
  });
});

describe("custom tool adapter", () => {
  it("writes the prompt file under the step folder and sets the tool's env, the step's env and NO_COLOR", async () => {
    const dir = tempDir();
    const agent = path.join(dir, "agent");
    fs.writeFileSync(agent, "#!/bin/sh\n", { mode: 0o755 });
    const step = makeStep({ tool: "agent", fileScope: ["src/a.py"], readOnly: ["README.md"], env: { STEP: "1" }, model: "small" });
    const ws = makeWorkstream([step], { tools: { agent: { command: "agent", args: ["--prompt-file", "{prompt_file}", "--model={model}", "{files}"], env: { TOOL: "t" } } } });
    const ctx = makeContext(step, { ws, env: { PATH: dir } });
    const inv = await adapterFor(ws, "agent").prepare(ctx);
    const promptFile = path.join(ctx.stepDir, "prompt-1.md");
    expect(inv).toEqual({
      command: agent,
      args: ["--prompt-file", promptFile, "--model=small", "src/a.py"],
      env: { TOOL: "t", STEP: "1", NO_COLOR: "1", TERM: "dumb" },
    });
    expect(fs.readFileSync(promptFile, "utf8")).toBe(buildPrompt(ctx));
  });
});

describe("a custom tool's verdict", () => {
  it("a network word in its output is no network verdict (that would make the tool unusable for the run): a plain error, retried", () => {
    const step = makeStep({ tool: "agent" });
    const ws = makeWorkstream([step], { tools: { agent: { command: "agent", args: [], env: {} } } });
    const parser = adapterFor(ws, "agent").parser(makeContext(step, { ws }));
    parser.onLine("Error: connect ECONNREFUSED 127.0.0.1:5432 (the test database)", "stdout");
    expect(parser.finish({ exitCode: 1, signal: null, outcome: "exited" })).toEqual({ kind: "error", message: "agent exited with code 1: Error: connect ECONNREFUSED 127.0.0.1:5432 (the test database)" });
  });
});
