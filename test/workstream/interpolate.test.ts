import { describe, expect, it } from "vitest";
import { interpolate, isTruthy } from "../../src/workstream/interpolate.js";
import { errors, loadText } from "./helpers.js";

describe("interpolate", () => {
  const env = { CI: "true", MAX: "5", EMPTY: "" };

  it.each([
    ["${env.MAX}", "5"],
    ["workers: ${env.MAX}!", "workers: 5!"],
    ["${env.NOPE:-3}", "3"],
    ["${env.MAX:-3}", "5"],
    ["${env.EMPTY:-3}", ""],
    ["${env.NOPE:-}", ""],
    ["${env.CI == 'true'}", "true"],
    ['${env.CI == "false"}', "false"],
    ["${env.CI != 'true'}", "false"],
    ["${env.NOPE == 'true'}", "false"],
    ["${env.NOPE != 'true'}", "true"],
    ["${ env.CI  ==  'true' }", "true"],
    ["plain text", "plain text"],
  ])("%s → %s", (template, expected) => {
    expect(interpolate(template, env)).toEqual({ ok: true, value: expected });
  });

  it("reports a missing variable without a default", () => {
    const result = interpolate("x ${env.NOPE} y", env);
    expect(result).toMatchObject({ ok: false, offset: 2, length: 11, message: "environment variable NOPE is not set" });
    if (!result.ok) expect(result.fix).toContain("${env.NOPE:-");
  });

  it.each(["${env.X; process.exit()}", "${process.env.X}", "${1 + 1}", "${env.X || 'a'}", "${env.CI == true}", "${`x`}"])(
    "never evaluates %s",
    (template) => {
      const result = interpolate(template, { X: "1", CI: "true" });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/unsupported expression/);
    },
  );

  it("reports an unclosed expression", () => {
    expect(interpolate("${env.X", { X: "1" })).toMatchObject({ ok: false, message: expect.stringMatching(/unclosed/) });
  });

  it.each([["", false], ["false", false], ["FALSE", false], ["0", false], ["no", false], ["Off", false], ["true", true], ["1", true], ["yes", true], ["anything", true]])(
    "when value %j is %s",
    (value, expected) => {
      expect(isTruthy(value)).toBe(expected);
    },
  );
});

describe("interpolation in a workstream", () => {
  const doc = (execution: object, when?: string) => ({ id: "i", execution, steps: [{ id: "a", run: "x", ...(when === undefined ? {} : { when }) }] });

  it("resolves execution values, then checks them as numbers and booleans", async () => {
    const result = await loadText("i.json", doc({ max_workers: "${env.MAX_WORKERS:-3}", parallel: "${env.PAR:-true}", timeout_per_step: "${env.T}", on_failure: "${env.OF:-stop}" }), { T: "45" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.workstream.execution).toMatchObject({ maxWorkers: 3, parallel: true, timeoutPerStep: 45, onFailure: "stop" });
  });

  it("uses the environment over the default", async () => {
    const result = await loadText("i.json", doc({ max_workers: "${env.MAX_WORKERS:-3}" }), { MAX_WORKERS: "7" });
    expect(result.ok && result.workstream.execution.maxWorkers).toBe(7);
  });

  it.each([["abc"], ["0"], ["2.5"]])("re-validates a resolved max_workers of %j", async (value) => {
    const result = await loadText("i.json", '{\n  "id": "i",\n  "execution": { "max_workers": "${env.MAX_WORKERS:-3}" },\n  "steps": [{ "id": "a", "run": "x" }]\n}\n', { MAX_WORKERS: value });
    expect(result.ok).toBe(false);
    const [error] = errors(result);
    expect(error?.message).toMatch(/execution.max_workers must be/);
    expect(error?.message).toContain('resolved from "${env.MAX_WORKERS:-3}"');
    expect(error?.location).toMatchObject({ line: 3, col: 33 });
  });

  it("reports a missing variable at the expression", async () => {
    const result = await loadText("i.json", '{\n  "id": "i",\n  "execution": { "timeout_per_step": "${env.NOPE}" },\n  "steps": [{ "id": "a", "run": "x" }]\n}\n');
    expect(errors(result)[0]).toMatchObject({ code: "interpolation", message: "environment variable NOPE is not set", location: { line: 3, col: 39, length: 11 } });
  });

  it("rejects code in an expression instead of running it", async () => {
    const result = await loadText("i.json", doc({ max_workers: "${env.X; process.exit()}" }), { X: "1" });
    expect(errors(result)[0]?.message).toMatch(/unsupported expression/);
  });

  it("resolves step.when to a boolean and keeps the source", async () => {
    const result = await loadText("i.json", doc({}, "${env.DEPLOY == 'true'}"), {});
    expect(result.ok && result.workstream.steps[0]?.when).toEqual({ source: "${env.DEPLOY == 'true'}", value: false });
    const on = await loadText("i.json", doc({}, "${env.DEPLOY == 'true'}"), { DEPLOY: "true" });
    expect(on.ok && on.workstream.steps[0]?.when?.value).toBe(true);
    const off = await loadText("i.json", doc({}, "${env.FLAG:-off}"), {});
    expect(off.ok && off.workstream.steps[0]?.when?.value).toBe(false);
  });

  it("in a condition, an unset ${env.X} is false, and a braceless $X is an error with the fix", async () => {
    const unset = await loadText("i.json", doc({}, "${env.CI}"), {});
    expect(unset.ok && unset.workstream.steps[0]?.when).toEqual({ source: "${env.CI}", value: false });
    const set = await loadText("i.json", doc({}, "${env.CI}"), { CI: "true" });
    expect(set.ok && set.workstream.steps[0]?.when?.value).toBe(true);
    const bare = await loadText("i.json", doc({}, "$CI == true"), { CI: "true" });
    expect(errors(bare)[0]).toMatchObject({ code: "interpolation", fix: "write ${env.CI} (or ${env.CI == 'value'})", location: { length: 3 } });
    expect(errors(bare)[0]?.message).toContain('"$CI" is not a variable here');
    // Inside an expression a `$` is part of the compared value, not a variable.
    const quoted = await loadText("i.json", doc({}, "${env.PRICE == '$HOME'}"), { PRICE: "$HOME" });
    expect(quoted.ok && quoted.workstream.steps[0]?.when?.value).toBe(true);
  });

  it("does not interpolate other fields (a shell run keeps its ${...})", async () => {
    const result = await loadText("i.json", { id: "i", steps: [{ id: "a", run: "echo ${HOME}" }] });
    expect(result.ok && result.workstream.steps[0]?.run).toBe("echo ${HOME}");
  });
});
