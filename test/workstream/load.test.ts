import { fileURLToPath } from "node:url";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isUserError } from "../../src/errors.js";
import { loadValidWorkstream, loadWorkstream } from "../../src/workstream/load.js";
import { errors, FIXTURES, loadText, tempDir } from "./helpers.js";

const BAD_INPUTS = fileURLToPath(new URL("../faults/bad-inputs/", import.meta.url));

describe("normalization", () => {
  it("produces the camelCase model with every field of the full fixture", async () => {
    const file = path.join(FIXTURES, "good", "full.json");
    const result = await loadWorkstream(file, { cwd: FIXTURES, env: { WS_RUN_LAST: "yes" } });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    if (!result.ok) throw new Error("expected a valid workstream");
    const ws = result.workstream;
    expect(ws).toMatchObject({
      id: "full",
      name: "Every field",
      file,
      hash: expect.stringMatching(/^fnv2-\d+-[0-9a-f]{16}$/),
      execution: { parallel: true, maxWorkers: 3, timeoutPerStep: 300, rateLimitDelay: 0.5, onFailure: "stop", fileConflicts: "serialize", isolation: "none" },
      defaults: { tool: "aider", model: "sonnet", retries: 1 },
      circuitBreaker: { failureThreshold: 2, cooldown: 30, maxWait: 600, networkWait: 0 },
      budget: { maxCostUsd: 5, maxTokens: 2000000, maxTurns: 200 },
      tools: { mytool: { command: "mytool", args: ["--prompt-file", "{prompt_file}", "{files}"], env: { MYTOOL_MODE: "fast" } } },
      stepGroups: [{ id: "group-a", steps: ["step-01-math", "step-02-custom"], execute: "sequential", maxWorkers: 1, succeed: "all", cancelRest: false, timeout: undefined }],
    });
    expect(ws.steps[0]).toEqual({
      id: "step-01-math",
      index: 0,
      description: "Create math utilities",
      tool: "aider",
      tools: ["aider", "claude"],
      budget: { maxCostUsd: 0.5, maxTokens: 100000, maxTurns: 20 },
      tasks: ["Create examples/math_utils.py", "divide raises ValueError on zero"],
      run: undefined,
      fileScope: ["examples/math_utils.py"],
      hasFileScope: true,
      mayChangeAnything: false,
      readOnly: ["README.md"],
      dependsOn: [],
      timeout: 120,
      retries: 2,
      retryDelay: 0,
      retryBackoff: 1,
      acceptanceTests: [{ run: 'python3 -c "import examples.math_utils"', timeout: undefined }, { run: "python3 -m pytest -q", timeout: 60 }],
      when: undefined,
      env: { PYTHONPATH: "." },
      inheritEnv: [],
      model: "opus",
      runIf: "success",
      compensate: undefined,
      approval: undefined,
      artifacts: [],
    });
    expect(ws.steps[1]).toMatchObject({ tool: "mytool", timeout: 300, retries: 1, model: "sonnet", description: "", hasFileScope: true, mayChangeAnything: false });
    expect(ws.steps[2]).toMatchObject({ tool: "shell", run: "echo done > done.txt", dependsOn: ["group-a"], when: { value: true }, hasFileScope: true, mayChangeAnything: false });
  });

  it("fills defaults: shell tool, design defaults, isolation left undecided", async () => {
    const result = await loadText("d.json", { id: "d", steps: [{ id: "a", run: "x" }] });
    if (!result.ok) throw new Error("expected a valid workstream");
    expect(result.workstream).toMatchObject({
      name: "d",
      description: "",
      execution: { parallel: true, maxWorkers: 3, timeoutPerStep: 1800, rateLimitDelay: 0, onFailure: "continue", fileConflicts: "error", isolation: undefined },
      defaults: { tool: "shell", model: undefined, retries: 0 },
      circuitBreaker: { failureThreshold: 3, cooldown: 60, maxWait: 1800, networkWait: 0 },
      budget: {},
      tools: {},
      stepGroups: [],
    });
    expect(result.workstream.steps[0]).toMatchObject({ tool: "shell", timeout: 1800, retries: 0, fileScope: [], hasFileScope: false, mayChangeAnything: false, acceptanceTests: [] });
  });

  it("an agent step without file_scope may change anything; a shell step without one claims no files (design §1)", async () => {
    const result = await loadText("s.json", {
      id: "s",
      tools: { mine: { command: "mine" } },
      steps: [{ id: "lint", run: "ruff check" }, { id: "agent", tool: "claude", tasks: ["t"] }, { id: "custom", tool: "mine", tasks: ["t"] }, { id: "scoped", tool: "claude", tasks: ["t"], file_scope: [] }],
    });
    if (!result.ok) throw new Error("expected a valid workstream");
    expect(result.workstream.steps.map((s) => [s.id, s.mayChangeAnything])).toEqual([["lint", false], ["agent", true], ["custom", true], ["scoped", false]]);
  });

  it("interpolates a step's env values; an output reference stays for the run; a bad one is an error at its line and column", async () => {
    const good = await loadText("e.json", { id: "e", steps: [{ id: "a", run: "x", env: { GREETING: "hi-${env.WHO:-nobody}", USER_IS: "${env.WHO}", PLAIN: "$HOME", VERSION: "v${steps.b.outputs.v}" }, depends_on: ["b"] }, { id: "b", run: "x" }] }, { WHO: "ann" });
    if (!good.ok) throw new Error("expected a valid workstream");
    expect(good.workstream.steps[0]?.env).toEqual({ GREETING: "hi-ann", USER_IS: "ann", PLAIN: "$HOME", VERSION: "v${steps.b.outputs.v}" });
    const fallback = await loadText("e.json", { id: "e", steps: [{ id: "a", run: "x", env: { GREETING: "hi-${env.WHO:-nobody}" } }] });
    if (!fallback.ok) throw new Error("expected a valid workstream");
    expect(fallback.workstream.steps[0]?.env).toEqual({ GREETING: "hi-nobody" });
    const text = '{\n  "id": "e",\n  "steps": [\n    { "id": "a", "run": "x", "env": { "A": "${env.UNSET}", "B": "x-${env.X; rm}" } }\n  ]\n}\n';
    const bad = await loadText("e.json", text);
    expect(errors(bad).map((d) => [d.code, d.location?.line, d.location?.col])).toEqual([
      ["interpolation", 4, 45],
      ["interpolation", 4, 68],
    ]);
    expect(bad.diagnostics.map((d) => d.message)).toEqual(["environment variable UNSET is not set", 'unsupported expression "${env.X; rm}"']);
  });

  it('resolves max_workers "auto" to the CPU count and parallel: false to one worker', async () => {
    const auto = await loadText("a.json", { id: "a", execution: { max_workers: "auto" }, steps: [{ id: "s", run: "x" }] });
    expect(auto.ok && auto.workstream.execution.maxWorkers).toBe(os.availableParallelism());
    const serial = await loadText("a.json", { id: "a", execution: { parallel: false, max_workers: 8 }, steps: [{ id: "s", run: "x" }] });
    expect(serial.ok && serial.workstream.execution).toMatchObject({ parallel: false, maxWorkers: 1 });
  });

  it("resolves a step timeout from step, defaults, then execution", async () => {
    const result = await loadText("t.json", {
      id: "t",
      execution: { timeout_per_step: 50 },
      steps: [{ id: "a", run: "x", timeout: 5 }, { id: "b", run: "x" }],
    });
    expect(result.ok && result.workstream.steps.map((s) => s.timeout)).toEqual([5, 50]);
  });

  it("loads YAML with the same model", async () => {
    const result = await loadWorkstream(path.join(FIXTURES, "good", "minimal.yaml"), { cwd: FIXTURES, env: {} });
    expect(result.ok && result.workstream.steps[0]).toMatchObject({ id: "hello", tool: "shell", run: "echo hello" });
  });
});

describe("checks beyond the schema", () => {
  it("requires the id to equal the file stem", async () => {
    const result = await loadText("right-name.json", '{\n  "id": "wrong-name",\n  "steps": [{ "id": "a", "run": "x" }]\n}\n');
    expect(errors(result)[0]).toMatchObject({ code: "id-mismatch", location: { line: 2, col: 9 } });
    expect(errors(result)[0]?.fix).toContain('"id": "right-name"');
  });

  it("rejects an unknown tool with the nearest name, built-in or declared", async () => {
    const result = await loadText("t.json", {
      id: "t",
      tools: { mytool: { command: "m" } },
      steps: [{ id: "a", tool: "claud", tasks: ["x"] }, { id: "b", tool: "mytol", tasks: ["y"] }],
    });
    const found = errors(result).filter((d) => d.code === "step");
    expect(found.map((d) => [d.message, d.fix])).toEqual([
      ['unknown tool "claud"', 'did you mean "claude"?'],
      ['unknown tool "mytol"', 'did you mean "mytool"?'],
    ]);
    // The unknown tool is the error; a "has no file_scope" warning on top of it would be noise.
    expect(result.diagnostics.filter((d) => d.code === "missing-file-scope")).toEqual([]);
  });

  it("reports an unknown defaults.tool once, not for every step", async () => {
    const result = await loadText("t.json", { id: "t", defaults: { tool: "aidr" }, steps: [{ id: "a", tasks: ["x"] }, { id: "b", tasks: ["y"] }] });
    expect(errors(result).map((d) => d.message)).toEqual(['unknown tool "aidr"']);
  });

  it("requires run for a shell step, and tasks (or a description) without run for an agent step", async () => {
    const result = await loadText("s.json", {
      id: "s",
      steps: [
        { id: "shell-no-run", tool: "shell" },
        { id: "agent-run", tool: "aider", tasks: ["x"], run: "echo" },
        { id: "agent-empty", tool: "codex" },
        { id: "agent-description", tool: "gemini", description: "Do the thing" },
      ],
    });
    expect(errors(result).filter((d) => d.code === "step").map((d) => d.message)).toEqual([
      'step "shell-no-run" is a shell step but has no "run" command',
      'step "agent-run" uses the aider tool, which takes "tasks", not "run"',
      'step "agent-empty" uses the codex tool but has no prompt',
    ]);
  });

  it("hints at a forgotten tool when a default-shell step has tasks", async () => {
    const result = await loadText("s.json", { id: "s", steps: [{ id: "a", tasks: ["write code"] }] });
    expect(errors(result)[0]?.fix).toMatch(/steps default to the shell tool/);
  });

  it("does not normalize when the schema fails (only schema diagnostics come back)", async () => {
    const result = await loadText("s.json", { id: "s", steps: [{ id: "a", tool: "nope", retries: "x" }] });
    expect(result.ok).toBe(false);
    expect(errors(result).map((d) => d.code)).toEqual(["schema"]);
  });

  it("reports duplicate ids and bad when expressions together with schema errors (all errors at once)", async () => {
    const result = await loadText("s.json", {
      id: "s",
      steps: [{ id: "a", run: "x", retries: "x" }, { id: "a", run: "y" }, { id: "b", run: "z", when: "$CI == true" }],
    });
    expect(result.ok).toBe(false);
    expect(errors(result).map((d) => [d.code, d.location?.line])).toEqual([
      ["schema", expect.any(Number)],
      ["duplicate-id", expect.any(Number)],
      ["interpolation", expect.any(Number)],
    ]);
    expect(errors(result)[2]?.message).toContain('"$CI" is not a variable here');
  });

  it("reports every NUL byte, in values and keys, at its escape, with or without schema errors", async () => {
    const text = '{ "id": "s", "steps": [{ "id": "a", "run": "echo \\\\u0000 \\u0000", "env": { "A\\u0000": "b" }, "retries": "x" }] }';
    const result = await loadText("s.json", text);
    const nul = errors(result).filter((d) => d.code === "nul-byte");
    // `\\u0000` is a backslash and "u0000", not a NUL: only the second escape is one.
    expect(nul.map((d) => [d.message, d.location?.col])).toEqual([
      ["steps[0].run holds a NUL byte, which no command line or environment can carry", text.indexOf('\\u0000"') + 1],
      ['the key "A\\u0000" in steps[0].env holds a NUL byte, which no command line or environment can carry', text.indexOf("A\\u0000") + 2],
    ]);
    expect(errors(result).some((d) => d.code === "schema")).toBe(true);
    expect((await loadText("ok.json", { id: "ok", steps: [{ id: "a", run: "printf '\\\\0'" }] })).ok).toBe(true);
  });

  it("reports a missing file as a diagnostic", async () => {
    const dir = tempDir();
    const result = await loadWorkstream("missing.json", { cwd: dir });
    expect(result).toMatchObject({ ok: false, source: undefined, diagnostics: [{ code: "io", file: "missing.json" }] });
  });

  it("names files relative to cwd when inside it", async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "workstreams"));
    fs.writeFileSync(path.join(dir, "workstreams", "r.json"), '{"id": "x", "steps": [{"id": "a", "run": "x"}]}');
    const result = await loadWorkstream(path.join(dir, "workstreams", "r.json"), { cwd: dir });
    expect(result.diagnostics[0]?.file).toBe(path.join("workstreams", "r.json"));
  });

  it("loadValidWorkstream throws a UserError carrying the diagnostics", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "v.json"), '{"id": "v", "steps": []}');
    const error = await loadValidWorkstream("v.json", { cwd: dir }).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    if (isUserError(error)) {
      expect(error.exitCode).toBe(2);
      expect(error.options.diagnostics?.[0]?.message).toMatch(/at least 1 item/);
    }
    fs.writeFileSync(path.join(dir, "v.json"), '{"id": "v", "steps": [{"id": "a", "run": "x"}]}');
    const ok = await loadValidWorkstream("v.json", { cwd: dir });
    expect(ok.workstream.id).toBe("v");
  });
});

describe("bad inputs end as diagnostics with a line:col", () => {
  const cases: Array<[string, string, number, number]> = [
    ["missing-comma.json", "parse", 4, 17],
    ["trailing-comma.json", "parse", 4, 35],
    ["comment.json", "parse", 2, 3],
    ["single-quotes.json", "parse", 2, 3],
    ["unclosed.json", "parse", 5, 1],
    ["wrong-types.json", "schema", 3, 33],
    ["unknown-key.json", "unknown-key", 5, 35],
    ["empty.json", "empty-file", 1, 1],
    ["top-level-array.json", "schema", 1, 1],
    ["top-level-scalar.json", "schema", 1, 1],
    ["top-level-scalar.yaml", "schema", 1, 1],
    ["duplicate-key.json", "duplicate-key", 4, 35],
    ["id-mismatch.json", "id-mismatch", 2, 9],
    ["bad-interpolation.json", "interpolation", 4, 21],
    ["unknown-tool.json", "step", 4, 26],
    ["yaml-syntax.yaml", "parse", 5, 3],
    ["bom-error.json", "parse", 1, 62],
    ["alias-bomb.yaml", "alias-limit", 6, 8],
    ["deep-nesting-schema.json", "schema", 3, 48],
    ["deep-unclosed-short.json", "parse", 4, 1],
  ];

  // The one bad-input corpus (test/faults/bad-inputs, driven through the binary there): here the
  // loader's own diagnostic codes and positions for a sample of it.
  it("takes its cases from the bad-input corpus", () => {
    const corpus = fs.readdirSync(BAD_INPUTS);
    expect(cases.map((c) => c[0]).filter((name) => !corpus.includes(name))).toEqual([]);
  });

  it.each(cases)("%s → %s error at %d:%d", async (name, code, line, col) => {
    const result = await loadWorkstream(path.join(BAD_INPUTS, name), { cwd: BAD_INPUTS, env: {} });
    expect(result.ok).toBe(false);
    const first = errors(result)[0];
    expect(first).toMatchObject({ code, file: name, location: { line, col } });
  });

  it("survives pathologically deep YAML and JSON", async () => {
    const deepYaml = await loadText("deep.yaml", "id: deep\nsteps:\n  - id: a\n    run: x\n    junk: " + "[".repeat(100_000) + "]".repeat(100_000) + "\n");
    expect(deepYaml.ok).toBe(false);
    expect(errors(deepYaml)[0]?.location?.line).toBeGreaterThanOrEqual(1);
    const deepJson = await loadText("deep.json", '{"id": "deep", "steps": ' + "[".repeat(300_000) + "]".repeat(300_000) + "}");
    expect(errors(deepJson)[0]).toMatchObject({ code: "schema", location: { line: 1, col: 26 } });
  });

  it("loads a 10 MB file of steps", async () => {
    const steps = [];
    for (let i = 0; i < 40_000; i++) {
      steps.push({ id: `step-${i}`, description: `Step ${i}`, run: `echo ${"x".repeat(100)} > out/${i}.txt`, file_scope: [`out/${i}.txt`], depends_on: i ? [`step-${i - 1}`] : [] });
    }
    const text = JSON.stringify({ id: "big", steps }, null, 2);
    expect(text.length).toBeGreaterThan(10_000_000);
    const result = await loadText("big.json", text);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.ok && result.workstream.steps).toHaveLength(40_000);
    // A late error in the big file still gets its exact position.
    const broken = await loadText("big.json", text.replace('"step-39999",', '"step-39999", "retries": "x",'));
    expect(errors(broken)[0]).toMatchObject({ code: "schema", location: { line: expect.any(Number) as number } });
    expect(errors(broken)[0]?.location?.line).toBeGreaterThan(300_000);
  }, 180_000);
});
