import { describe, expect, it } from "vitest";
import { errors, loadText } from "./helpers.js";

const step = { id: "a", run: "echo a" };
const base = { id: "s", steps: [step] };

async function schemaErrors(doc: object) {
  const result = await loadText("s.json", doc);
  return errors(result);
}

describe("workstream schema", () => {
  it("accepts a minimal workstream and a $schema key", async () => {
    expect(await schemaErrors({ $schema: "../schemas/workstream.schema.json", ...base })).toEqual([]);
  });

  it("requires id and a non-empty steps list", async () => {
    expect((await schemaErrors({ steps: [step] }))[0]?.message).toMatch(/missing the required key "id"/);
    expect((await schemaErrors({ id: "s" }))[0]?.message).toMatch(/missing the required key "steps"/);
    expect((await schemaErrors({ id: "s", steps: [] }))[0]?.message).toMatch(/steps must have at least 1 item/);
  });

  it("rejects unknown keys everywhere, with did-you-mean at the key", async () => {
    const found = await schemaErrors({
      id: "s",
      stpes: [],
      execution: { max_worker: 2 },
      defaults: { toll: "shell" },
      circuit_breaker: { threshold: 1 },
      tools: { t: { command: "t", arg: [] } },
      steps: [{ ...step, depend_on: [], acceptance_tests: [{ run: "x", timout: 3 }] }],
      step_groups: [{ id: "g", steps: ["a"], exec: "parallel" }],
    });
    const unknown = found.filter((d) => d.code === "unknown-key");
    expect(unknown.map((d) => [d.message, d.fix])).toEqual([
      ['unknown key "stpes"', 'did you mean "steps"?'],
      ['unknown key "max_worker" in execution', 'did you mean "max_workers"?'],
      ['unknown key "toll" in defaults', 'did you mean "tool"?'],
      ['unknown key "threshold" in circuit_breaker', 'did you mean "failure_threshold"?'],
      ['unknown key "arg" in tools.t', 'did you mean "args"?'],
      ['unknown key "depend_on" in steps[0]', 'did you mean "depends_on"?'],
      ['unknown key "timout" in steps[0].acceptance_tests[0]', 'did you mean "timeout"?'],
      ['unknown key "exec" in step_groups[0]', 'did you mean "execute"?'],
    ]);
    expect(unknown.every((d) => d.location !== undefined)).toBe(true);
  });

  it("points an unknown key at the key itself", async () => {
    const result = await loadText("s.json", '{\n  "id": "s",\n  "steps": [{ "id": "a", "run": "x", "depend_on": [] }]\n}\n');
    expect(errors(result)[0]).toMatchObject({ code: "unknown-key", location: { line: 3, col: 38, length: 11 } });
  });

  it.each([
    [{ execution: { max_workers: 0 } }, /execution.max_workers must be >= 1/],
    [{ execution: { max_workers: 2.5 } }, /execution.max_workers must be a whole number/],
    [{ execution: { max_workers: "many" } }, /execution.max_workers must be an integer >= 1, "auto" or an \$\{env...\} expression/],
    [{ execution: { parallel: "yes" } }, /execution.parallel must be true, false/],
    [{ execution: { timeout_per_step: -1 } }, /timeout_per_step must be >= 0/],
    [{ execution: { on_failure: "halt" } }, /on_failure must be "continue", "stop", "abort"/],
    [{ execution: { file_conflicts: "ignore" } }, /file_conflicts must be "error", "serialize"/],
    [{ execution: { isolation: "docker" } }, /isolation must be "worktree", "sandbox", "none"/],
    [{ circuit_breaker: { failure_threshold: 0 } }, /failure_threshold must be >= 1/],
    [{ defaults: { retries: -1 } }, /defaults.retries must be >= 0/],
    [{ tools: { t: { args: [] } } }, /tools.t is missing the required key "command"/],
    [{ tools: { "bad name": { command: "x" } } }, /invalid name "bad name" in tools/],
    [{ steps: [{ run: "x" }] }, /steps\[0\] is missing the required key "id"/],
    [{ steps: [{ id: "../up", run: "x" }] }, /steps\[0\].id must be an id made of letters/],
    [{ steps: [{ ...step, depends_on: "b" }] }, /depends_on must be a list/],
    [{ steps: [{ ...step, depends_on: ["b", "b"] }] }, /depends_on lists "b" twice/],
    [{ steps: [{ ...step, retries: 1.5 }] }, /retries must be a whole number/],
    [{ steps: [{ ...step, timeout: "60" }] }, /timeout must be a number, found string "60"/],
    [{ steps: [{ ...step, acceptance_tests: [3] }] }, /acceptance_tests\[0\] must be a command string or an object/],
    [{ steps: [{ ...step, acceptance_tests: [{ timeout: 3 }] }] }, /acceptance_tests\[0\] is missing the required key "run"/],
    [{ steps: [{ ...step, acceptance_tests: [""] }] }, /acceptance_tests\[0\] must not be empty/],
    [{ steps: [{ ...step, when: 1 }] }, /when must be a string or true or false/],
    [{ steps: [{ ...step, env: { X: 1 } }] }, /env.X must be a string/],
    [{ steps: [{ ...step, env: { "1X": "y" } }] }, /invalid name "1X" in steps\[0\].env/],
    [{ steps: [{ ...step, file_scope: [""] }] }, /file_scope\[0\] must not be empty/],
    [{ step_groups: [{ id: "g", steps: [] }] }, /step_groups\[0\].steps must have at least 1 item/],
    [{ step_groups: [{ id: "g", steps: ["a"], execute: "parallell" }] }, /execute must be one of "parallel", "sequential"/],
    [{ step_groups: [{ id: "g", steps: ["a"], max_workers: 0 }] }, /step_groups\[0\].max_workers must be >= 1/],
    [{ name: 3 }, /name must be a string/],
  ])("rejects %j", async (patch, message) => {
    const found = await schemaErrors({ ...base, ...patch });
    expect(found.map((d) => d.message)).toContainEqual(expect.stringMatching(message));
    expect(found.every((d) => d.location && d.location.line >= 1 && d.location.col >= 1)).toBe(true);
  });

  it("suggests the nearest allowed value for a mistyped enum", async () => {
    const found = await schemaErrors({ ...base, execution: { on_failure: "contineu" } });
    expect(found[0]?.fix).toBe('did you mean "continue"?');
  });

  it("reports every error of a file in one pass", async () => {
    const found = await schemaErrors({ id: "s", extra: 1, execution: { max_workers: 0 }, steps: [{ id: "a", run: "x", retries: "2" }, { run: "y" }] });
    expect(found).toHaveLength(4);
    // sorted by position
    const offsets = found.map((d) => d.location?.offset ?? -1);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
  });
});
