import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/diagnostics.js";
import { checkGraph } from "../../src/graph/check.js";
import { chain, fakeSource, makeWs } from "./make-ws.js";

const codes = (diagnostics: Diagnostic[]): string[] => diagnostics.map((d) => `${d.severity}:${d.code}`);

describe("checkGraph", () => {
  it("accepts a valid diamond with disjoint scopes", () => {
    const ws = makeWs([
      { id: "A", fileScope: ["a.txt"] },
      { id: "B", fileScope: ["b.txt"], dependsOn: ["A"] },
      { id: "C", fileScope: ["c.txt"], dependsOn: ["A"] },
      { id: "D", fileScope: ["d.txt"], dependsOn: ["B", "C"] },
    ]);
    expect(checkGraph(ws, fakeSource())).toEqual([]);
  });

  it("reports a cycle as a → b → c → a with every edge located", () => {
    const source = fakeSource();
    const ws = chain({ a: ["x", "b"], b: ["c"], c: ["a"], x: [] });
    const [cycle, ...rest] = checkGraph(ws, source);
    expect(rest).toEqual([]);
    expect(cycle).toMatchObject({ severity: "error", code: "cycle", message: "cycle: a → b → c → a", file: "workstreams/ws-test.json" });
    expect(source.pathOf(cycle!.location)).toBe("steps.0.depends_on.1");
    expect(cycle!.related!.map((r) => [r.message, source.pathOf(r.location)])).toEqual([
      ["a depends on b", "steps.0.depends_on.1"],
      ["b depends on c", "steps.1.depends_on.0"],
      ["c depends on a", "steps.2.depends_on.0"],
    ]);
  });

  it("reports several cycles, each once", () => {
    const messages = checkGraph(chain({ a: ["b"], b: ["a", "c"], c: ["b"], d: ["d"] }), undefined).map((d) => d.message);
    expect(messages.sort()).toEqual(["cycle: a → b → a", "cycle: b → c → b", "cycle: d → d"]);
  });

  it("says when the cycle list was cut short", () => {
    const ids = Array.from({ length: 7 }, (_, i) => `n${i}`);
    const ws = makeWs(ids.map((id) => ({ id, dependsOn: ids.filter((other) => other !== id) })));
    const diagnostics = checkGraph(ws, undefined);
    expect(diagnostics.filter((d) => d.severity === "error" && d.code === "cycle")).toHaveLength(100);
    expect(diagnostics.at(-1)).toMatchObject({ severity: "note", code: "cycle", message: "the first 100 cycles are shown; there may be more" });
  });

  it("reports a self-dependency in the cycle format, also through a group", () => {
    const source = fakeSource();
    const ws = makeWs([{ id: "a", dependsOn: ["a"] }, { id: "b", dependsOn: ["grp"] }], { groups: [{ id: "grp", steps: ["b"] }] });
    const diagnostics = checkGraph(ws, source);
    expect(diagnostics.map((d) => [d.code, d.message, source.pathOf(d.location)])).toEqual([
      ["self-dependency", "cycle: a → a", "steps.0.depends_on.0"],
      ["self-dependency", "cycle: b → b", "steps.1.depends_on.0"],
    ]);
    expect(diagnostics[1]!.related![0]!.message).toBe('b depends on b (through step group "grp")');
    expect(diagnostics[0]!.fix).toBe('remove "a" from its own depends_on');
    expect(diagnostics[1]!.fix).toBe('"b" depends on step group "grp", which contains it: remove one from the other');
  });

  it("reports duplicate ids, pointing at both definitions", () => {
    const source = fakeSource();
    const ws = makeWs([{ id: "a" }, { id: "b" }, { id: "a" }], { groups: [{ id: "g", steps: ["a"] }, { id: "g", steps: ["b"] }] });
    const diagnostics = checkGraph(ws, source);
    expect(diagnostics.map((d) => [d.code, d.message, source.pathOf(d.location), source.pathOf(d.related?.[0]?.location)])).toEqual([
      ["duplicate-id", 'duplicate step id "a"', "steps.2.id", "steps.0.id"],
      ["duplicate-id", 'duplicate step group id "g"', "step_groups.1.id", "step_groups.0.id"],
    ]);
  });

  it("reports unknown dependencies with the nearest id, or a list when nothing is close", () => {
    const source = fakeSource();
    const ws = makeWs(
      [{ id: "build-app" }, { id: "test-app", dependsOn: ["biuld-app", "grp", "zzzzzzzzzz"] }],
      { groups: [{ id: "grp", steps: ["build-app"] }] },
    );
    const diagnostics = checkGraph(ws, source);
    expect(diagnostics.map((d) => [d.code, d.message, d.fix, source.pathOf(d.location)])).toEqual([
      ["unknown-dependency", 'step "test-app" depends on unknown step "biuld-app"', 'did you mean "build-app"?', "steps.1.depends_on.0"],
      ["unknown-dependency", 'step "test-app" depends on unknown step "zzzzzzzzzz"', 'known ids: "build-app", "grp"', "steps.1.depends_on.2"],
    ]);
  });

  it("never suggests that a step depend on itself", () => {
    const [diagnostic] = checkGraph(chain({ "deploy-app": ["deploy-ap"], "build-app": [] }), undefined);
    expect(diagnostic!.fix).toBe('known ids: "build-app"');
  });

  it("reports unknown group members and group ids that clash with step ids", () => {
    const source = fakeSource();
    const ws = makeWs([{ id: "lint" }, { id: "test" }], { groups: [{ id: "lint", steps: ["test", "tset"] }] });
    const diagnostics = checkGraph(ws, source);
    expect(diagnostics.map((d) => [d.code, d.fix ?? "", source.pathOf(d.location)])).toEqual([
      ["group-id-clash", "rename the group: in depends_on the name must mean one thing", "step_groups.0.id"],
      ["unknown-group-member", 'did you mean "test"?', "step_groups.0.steps.1"],
    ]);
  });

  it("allows a step in two groups", () => {
    const ws = makeWs([{ id: "a" }, { id: "b", dependsOn: ["g1", "g2"] }], {
      groups: [{ id: "g1", steps: ["a"] }, { id: "g2", steps: ["a"] }],
    });
    expect(checkGraph(ws, undefined)).toEqual([]);
  });

  it("reports a sequential group whose order contradicts depends_on", () => {
    const source = fakeSource();
    const ws = makeWs([{ id: "a", dependsOn: ["b"] }, { id: "b" }, { id: "c" }], {
      groups: [{ id: "seq", steps: ["a", "b"], execute: "sequential" }, { id: "ok", steps: ["b", "a", "c"], execute: "sequential" }],
    });
    const diagnostics = checkGraph(ws, source);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([["group-order", "sequential group order contradicts depends_on: a → b → a"]]);
    expect(diagnostics[0]!.related!.map((r) => [r.message, source.pathOf(r.location)])).toEqual([
      ["a depends on b", "steps.0.depends_on.0"],
      ['b runs after a in sequential group "seq"', "step_groups.0.steps.1"],
    ]);
  });

  it("reports scope entries that are absolute or climb out of the project", () => {
    const source = fakeSource();
    const ws = makeWs([{ id: "a", fileScope: ["/etc/hosts", "src/../ok.ts", "src/../../up"], readOnly: ["../README.md"] }]);
    const diagnostics = checkGraph(ws, source);
    expect(diagnostics.map((d) => [d.code, d.message, source.pathOf(d.location)])).toEqual([
      ["scope-outside-project", 'file_scope entry "/etc/hosts" of step "a" is absolute', "steps.0.file_scope.0"],
      ["scope-outside-project", 'file_scope entry "src/../../up" of step "a" climbs out of the project', "steps.0.file_scope.2"],
      ["scope-outside-project", 'read_only entry "../README.md" of step "a" climbs out of the project', "steps.0.read_only.0"],
    ]);
  });

  it("warns about agent steps without file_scope, not shell steps", () => {
    const ws = makeWs([{ id: "agent", tool: "claude" }, { id: "sh" }, { id: "scoped", tool: "aider", fileScope: ["x.py"] }]);
    const diagnostics = checkGraph(ws, undefined);
    expect(codes(diagnostics)).toEqual(["warning:missing-file-scope"]);
    expect(diagnostics[0]!.message).toContain('"agent"');
    expect(diagnostics[0]!.file).toBe("/project/workstreams/ws-test.json");
  });

  it("reports file conflicts as errors naming both steps and patterns, or notes under serialize", () => {
    const steps = [
      { id: "a", fileScope: ["docs/**", "src/**"] },
      { id: "b", fileScope: ["src/a/*.ts"] },
    ];
    const source = fakeSource();
    const [error] = checkGraph(makeWs(steps), source);
    expect(error).toMatchObject({ severity: "error", code: "file-conflict" });
    expect(error!.message).toBe('steps "a" and "b" may run at the same time and their file scopes overlap: "a" claims "src/**", "b" claims "src/a/*.ts"');
    expect(error!.fix).toContain("depends_on");
    expect(source.pathOf(error!.location)).toBe("steps.0.file_scope.1");
    expect(source.pathOf(error!.related![0]!.location)).toBe("steps.1.file_scope.0");
    expect(codes(checkGraph(makeWs(steps, { fileConflicts: "serialize" }), undefined))).toEqual(["note:file-conflict"]);
  });

  it("caps conflict diagnostics and says how many more there are", () => {
    const steps = Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, fileScope: ["shared.txt"] }));
    const diagnostics = checkGraph(makeWs(steps), undefined);
    expect(diagnostics).toHaveLength(201);
    expect(diagnostics[200]!.message).toBe("235 more pairs of steps with overlapping file scopes are not shown");
  });
});
