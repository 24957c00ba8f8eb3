import { describe, expect, it } from "vitest";
import { capOutputs, MAX_OUTPUT_BYTES, parseOutputs, resolveStepOutputs } from "../../src/engine/outputs.js";
import { interpolate } from "../../src/workstream/interpolate.js";
import { makeWorkstream } from "../export/make-workstream.js";
import { errors, loadText } from "../workstream/helpers.js";

describe("$WS_OUTPUT files", () => {
  it("reads key=value lines and GitHub's heredoc form; a value may hold '=' and the last write wins", () => {
    const text = "version=1.2.3\nurl=https://x/?a=b\nnotes<<EOF\nline one\nline = two\nEOF\nversion=1.2.4\n";
    expect(parseOutputs(text)).toEqual({ outputs: { version: "1.2.4", url: "https://x/?a=b", notes: "line one\nline = two" }, problems: [] });
  });

  it("reports lines that fit neither form and an unclosed heredoc, keeping the rest", () => {
    const r = parseOutputs("ok=1\njust text\nbad key=2\nlog<<END\nnever closed\n");
    expect(r.outputs).toEqual({ ok: "1" });
    expect(r.problems).toHaveLength(3);
    expect(r.problems[2]).toMatch(/never closed|is never closed/);
  });

  it("caps what is kept, naming what was dropped", () => {
    const r = capOutputs({ small: "x", big: "y".repeat(MAX_OUTPUT_BYTES) });
    expect(r).toEqual({ outputs: { small: "x" }, dropped: ["big"] });
  });
});

describe("${steps.<id>.outputs.<key>}", () => {
  it("interpolate keeps a step reference for later without outputs, and resolves it (plain or compared) with them", () => {
    expect(interpolate("${steps.a.outputs.v}", {})).toEqual({ ok: true, value: "${steps.a.outputs.v}" });
    const lookup = (step: string, key: string) => (step === "a" && key === "v" ? "prod" : undefined);
    expect(interpolate("${steps.a.outputs.v}", {}, { outputs: lookup })).toEqual({ ok: true, value: "prod" });
    expect(interpolate("${steps.a.outputs.v == 'prod'}", {}, { outputs: lookup })).toEqual({ ok: true, value: "true" });
    expect(interpolate("${steps.a.outputs.missing != ''}", {}, { outputs: lookup })).toEqual({ ok: true, value: "false" });
  });

  it("a resolved step: literal values in tasks, env and when; shell variables (never code) in run and tests", () => {
    const ws = makeWorkstream("w", [
      {
        id: "b",
        run: "deploy --version \"${steps.a.outputs.v}\"",
        tasks: ["Release ${steps.a.outputs.v}"],
        env: { VERSION: "v${steps.a.outputs.v}" },
        acceptanceTests: [{ run: "test \"${steps.a.outputs.v}\" = \"$(cat v)\"" }],
        when: { source: "${steps.a.outputs.v != ''}" },
      },
    ]);
    const hostile = "1.0\"; rm -rf / #";
    const step = resolveStepOutputs(ws.steps[0]!, (s, k) => (s === "a" && k === "v" ? hostile : undefined));
    expect(step.run).toBe('deploy --version "${WS_OUT_A_V}"');
    expect(step.acceptanceTests[0]!.run).toBe('test "${WS_OUT_A_V}" = "$(cat v)"');
    expect(step.env).toEqual({ VERSION: `v${hostile}`, WS_OUT_A_V: hostile });
    expect(step.tasks).toEqual([`Release ${hostile}`]);
    expect(step.when?.value).toBe(true);
    const empty = resolveStepOutputs(ws.steps[0]!, () => undefined);
    expect(empty.when?.value).toBe(false);
  });
});

describe("validation of output references", () => {
  const base = (b: object) => ({ id: "refs", steps: [{ id: "a", run: "true" }, { id: "other", run: "true" }, { id: "b", run: "true", depends_on: ["a"], ...b }] });

  it("accepts a reference to an ancestor (also through a group) and in every field", async () => {
    const r = await loadText("refs.json", {
      id: "refs",
      step_groups: [{ id: "g", steps: ["a"] }],
      steps: [
        { id: "a", run: "true" },
        { id: "m", run: "true", depends_on: ["a"] },
        {
          id: "b",
          run: "echo ${steps.a.outputs.v}",
          env: { X: "${steps.g.outputs.v}" },
          when: "${steps.m.outputs.go == 'yes'}",
          acceptance_tests: ["test -n \"${steps.a.outputs.v}\""],
          depends_on: ["m"],
        },
      ],
    });
    expect(errors(r)).toEqual([]);
  });

  it("a reference to a step that is not an ancestor: error at the reference, fix: add it to depends_on", async () => {
    const r = await loadText("refs.json", base({ run: "echo ${steps.other.outputs.v}" }));
    const [e] = errors(r);
    expect(e?.message).toMatch(/step "b" reads \$\{steps\.other\.outputs\.v\}, but "other" is not one of its dependencies/);
    expect(e?.fix).toBe('add "other" to the depends_on of "b"');
    const line = r.source!.text.split("\n")[(e?.location?.line ?? 0) - 1] ?? "";
    expect(line.slice((e?.location?.col ?? 0) - 1)).toMatch(/^\$\{steps\.other\.outputs\.v\}/);
  });

  it("an unknown step gets a suggestion; a malformed reference is named", async () => {
    const unknown = await loadText("refs.json", base({ tasks: ["${steps.aa.outputs.v}"], tool: "claude" }));
    expect(errors(unknown).map((e) => [e.message, e.fix])).toContainEqual(['step "b" reads the outputs of unknown step "aa"', 'did you mean "a"?']);
    const malformed = await loadText("refs.json", base({ run: "echo ${steps.a.output.v}" }));
    expect(errors(malformed)[0]?.message).toMatch(/"\$\{steps\.a\.output\.v\}" is not an output reference/);
  });
});
