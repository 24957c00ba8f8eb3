import { describe, expect, it } from "vitest";
import { findScopeConflicts, SCAN_FILES } from "../../src/graph/conflicts.js";
import { buildGraph } from "../../src/graph/graph.js";
import { makeWs, type GroupInput, type StepInput } from "./make-ws.js";

function conflicts(steps: StepInput[], groups: GroupInput[] = []): string[] {
  const ws = makeWs(steps, { groups });
  const g = buildGraph(ws);
  return findScopeConflicts(ws, g).map(({ a, b, patternA, patternB }) => `${g.ids[a]}:${patternA} ~ ${g.ids[b]}:${patternB}`);
}

describe("findScopeConflicts", () => {
  it("finds literal vs literal, literal vs glob and glob vs glob overlaps", () => {
    expect(
      conflicts([
        { id: "a", fileScope: ["docs/x.md", "src/one.ts"] },
        { id: "b", fileScope: ["src/one.ts"] },
        { id: "c", fileScope: ["lib/*.js"] },
        { id: "d", fileScope: ["lib/index.js"] },
        { id: "e", fileScope: ["test/**"] },
        { id: "f", fileScope: ["test/unit/*.test.ts"] },
      ]),
    ).toEqual(["a:src/one.ts ~ b:src/one.ts", "c:lib/*.js ~ d:lib/index.js", "e:test/** ~ f:test/unit/*.test.ts"]);
  });

  it("ignores disjoint scopes", () => {
    expect(
      conflicts([
        { id: "a", fileScope: ["src/*.ts"] },
        { id: "b", fileScope: ["test/*.ts"] },
        { id: "c", fileScope: ["src/*.js", "src/a/**"] },
        { id: "d", fileScope: ["src/b/**"] },
      ]),
    ).toEqual([]);
  });

  it("ignores pairs ordered by depends_on, directly, transitively or through a group", () => {
    expect(
      conflicts(
        [
          { id: "a", fileScope: ["src/**"] },
          { id: "b", fileScope: ["src/x.ts"], dependsOn: ["a"] },
          { id: "c", fileScope: ["src/y.ts"], dependsOn: ["b"] },
          { id: "d", fileScope: ["src/z.ts"], dependsOn: ["grp"] },
        ],
        [{ id: "grp", steps: ["c"] }],
      ),
    ).toEqual([]);
  });

  it("reports siblings of a diamond, which are not ordered", () => {
    expect(
      conflicts([
        { id: "a", fileScope: ["a.txt"] },
        { id: "b", fileScope: ["shared/**"], dependsOn: ["a"] },
        { id: "c", fileScope: ["shared/c.txt"], dependsOn: ["a"] },
        { id: "d", fileScope: ["shared/**"], dependsOn: ["b", "c"] },
      ]),
    ).toEqual(["b:shared/** ~ c:shared/c.txt"]);
  });

  it("treats members of one sequential group as ordered, but not of a parallel one", () => {
    const steps: StepInput[] = [
      { id: "a", fileScope: ["src/**"] },
      { id: "b", fileScope: ["src/b.ts"] },
      { id: "c", fileScope: ["src/c.ts"] },
    ];
    expect(conflicts(steps, [{ id: "seq", steps: ["a", "b", "c"], execute: "sequential" }])).toEqual([]);
    expect(conflicts(steps, [{ id: "seq", steps: ["a", "b"], execute: "sequential" }])).toEqual(["a:src/** ~ c:src/c.ts"]);
    expect(conflicts(steps, [{ id: "par", steps: ["a", "b", "c"], execute: "parallel" }])).toEqual([
      "a:src/** ~ b:src/b.ts",
      "a:src/** ~ c:src/c.ts",
    ]);
  });

  it("reports a pair once, with its first overlapping patterns, and compares root-level globs with everything", () => {
    expect(
      conflicts([
        { id: "a", fileScope: ["src/a.ts", "src/b.ts"] },
        { id: "b", fileScope: ["**/*.ts"] },
        { id: "c", fileScope: ["src/b.ts", "src/a.ts"] },
      ]),
    ).toEqual(["a:src/a.ts ~ b:**/*.ts", "a:src/a.ts ~ c:src/a.ts", "b:**/*.ts ~ c:src/b.ts"]);
  });

  it("skips entries outside the project and steps without scope", () => {
    expect(
      conflicts([
        { id: "a", fileScope: ["../x/**"] },
        { id: "b", fileScope: ["../x/y"] },
        { id: "c", tool: "aider" },
        { id: "d", tool: "aider" },
      ]),
    ).toEqual([]);
  });

  it("finds no conflict with shell steps that claim no files (no file_scope, or []), beside a step that claims everything", () => {
    const ws = makeWs([{ id: "lint" }, { id: "test", fileScope: [] }, { id: "fix", fileScope: ["**"] }]);
    expect(ws.steps.map((s) => s.mayChangeAnything)).toEqual([false, false, false]);
    expect(conflicts([{ id: "lint" }, { id: "test", fileScope: [] }, { id: "fix", fileScope: ["**"] }])).toEqual([]);
  });

  it("finds a path named twice among many in one folder (sorted, past SCAN_FILES), and the entries whose prefix is that path", () => {
    const many: StepInput[] = Array.from({ length: SCAN_FILES + 4 }, (_, i) => ({ id: `f${i}`, fileScope: [`src/f${i}.ts`] }));
    expect(conflicts([...many, { id: "again", fileScope: ["src/f3.ts"] }, { id: "below", fileScope: ["src/f5.ts/**"] }])).toEqual([
      "f3:src/f3.ts ~ again:src/f3.ts",
      "f5:src/f5.ts ~ below:src/f5.ts/**",
    ]);
  });

  it("keeps every entry of a path on which one entry sits several times (brace alternatives)", () => {
    expect(
      conflicts([
        { id: "a", fileScope: ["{src/*.md,src/x/*.md,src/x/y/*.md}"] },
        { id: "c", fileScope: ["src/x/y/**"] },
        { id: "b", fileScope: ["src/x/y/q/z.ts"] },
      ]),
    ).toEqual(["a:{src/*.md,src/x/*.md,src/x/y/*.md} ~ c:src/x/y/**", "c:src/x/y/** ~ b:src/x/y/q/z.ts"]);
  });
});
