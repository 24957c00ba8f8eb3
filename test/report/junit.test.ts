import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { renderJunit } from "../../src/report/junit.js";
import { makeWorkstream } from "../export/make-workstream.js";
import { RunLog } from "./run-events.js";
import { find, parseXml, type XmlElement } from "./xml-check.js";

const ws = makeWorkstream("ws-report", [
  { id: "A" },
  { id: "B", dependsOn: ["A"] },
  { id: "C", dependsOn: ["B"] },
  { id: "D", when: { source: "false", value: false } },
  { id: "E" },
]);

function suiteOf(xml: string): XmlElement {
  const root = parseXml(xml);
  expect(root.name).toBe("testsuites");
  const suites = find(root, "testsuite");
  expect(suites).toHaveLength(1);
  return suites[0]!;
}

function testcase(suite: XmlElement, name: string): XmlElement {
  const found = find(suite, "testcase").filter((c) => c.attrs.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe("renderJunit", () => {
  const failingRun = new RunLog()
    .start("ws-report", ["A", "B", "C", "D", "E"], { selected: ["A", "B", "C", "D"] })
    .attempt("A", 1, { passed: true, tail: ["built a"] })
    .end("A", "passed", "passed", 1, 2000)
    .attempt("B", 1, { passed: false, tail: ["tool said hi"] }, [
      { command: "test -f b.txt", passed: true },
      { command: "pytest -q tests/test_b.py", passed: false, exitCode: 2, tail: ["E   assert 1 == 2", "1 failed"] },
    ])
    .attempt("B", 2, { passed: false, reason: "timeout", exitCode: null, detail: "killed after 300s", tail: ["still thinking"] })
    .end("B", "failed", "timeout", 2, 6500)
    .end("C", "blocked", "blocked_by:B", 0, 0)
    .end("D", "skipped", "skipped", 0, 0)
    .finish("failed", 9000, 8500);

  test("one testcase per step of the run, with counts that match", () => {
    const suite = suiteOf(renderJunit(ws, failingRun.events));
    expect(suite.attrs).toMatchObject({ name: "ws-report", tests: "4", failures: "1", skipped: "2", errors: "0", time: "9.000" });
    // E was not selected and never ran: it is not part of this run's report.
    expect(find(suite, "testcase").map((c) => c.attrs.name)).toEqual(["A", "B", "C", "D"]);
    for (const c of find(suite, "testcase")) expect(c.attrs.classname).toBe("ws-report");
    expect(testcase(suite, "A").attrs.time).toBe("2.000");
    expect(testcase(suite, "A").children.map((c) => c.name)).toEqual(["system-out"]);
  });

  test("an agent step's cost, tokens and turns are testcase properties", () => {
    const run = new RunLog()
      .start("ws-report", ["A"], { selected: ["A"] })
      .attempt("A", 1, { passed: true, usage: { costUsd: 0.25, inputTokens: 1000, outputTokens: 200, turns: 3 } })
      .end("A", "passed", "passed", 1, 2000)
      .finish("passed", 2000, 2000);
    const properties = find(testcase(suiteOf(renderJunit(ws, run.events)), "A"), "properties")[0]!;
    const props = find(properties, "property").map((p) => [p.attrs.name, p.attrs.value]);
    expect(props).toEqual([["cost_usd", "0.25"], ["input_tokens", "1000"], ["output_tokens", "200"], ["turns", "3"]]);
  });

  test("a rejected approval gate is the step's failure, with who and why; the decision is a property", () => {
    const run = new RunLog().start("ws-report", ["A"], { selected: ["A"] });
    run.events.push({ type: "approval-end", at: "2026-11-30T14:06:00.000Z", step: "A", approved: false, by: "bob", via: "command", reason: "freeze" });
    run.events.push({ type: "step-end", at: "2026-11-30T14:06:00.000Z", step: "A", state: "failed", reason: { kind: "rejected" }, attempts: 0, durationMs: 0, detail: "by bob: freeze" });
    const a = testcase(suiteOf(renderJunit(ws, run.finish("failed", 10, 0).events)), "A");
    expect(find(a, "failure")[0]?.attrs.message).toBe("rejected");
    expect(find(a, "failure")[0]?.text).toContain("by bob: freeze");
    const props = find(find(a, "properties")[0]!, "property").map((p) => [p.attrs.name, p.attrs.value]);
    expect(props).toEqual([["approval", "rejected by bob (command) at 2026-11-30T14:06:00.000Z: freeze"]]);
  });

  test("a failed step carries the reason and the last output lines", () => {
    const b = testcase(suiteOf(renderJunit(ws, failingRun.events)), "B");
    const failure = find(b, "failure")[0]!;
    expect(failure.attrs.message).toBe("timeout");
    expect(failure.text).toContain("killed after 300s");
    expect(failure.text).toContain("still thinking");
    const out = find(b, "system-out")[0]!.text;
    expect(out).toContain("attempt 1 (shell): tests_failed, exit 0, 2.000s");
    expect(out).toContain("test 1: test -f b.txt -> passed, exit 0, 0.500s");
    expect(out).toContain("test 2: pytest -q tests/test_b.py -> exit:2, exit 2, 0.500s");
    expect(out).toContain("attempt 2 (shell): timeout, no exit code");
  });

  test("the failing acceptance test's output is the failure body", () => {
    const log = new RunLog()
      .start("ws-report", ["A", "B", "C", "D", "E"], { selected: ["B"] })
      .attempt("B", 1, { passed: false, tail: ["tool output"] }, [
        { command: "pytest -q", passed: false, exitCode: 1, tail: ["E   assert 1 == 2"] },
      ])
      .end("B", "failed", "tests_failed", 1, 2500)
      .finish("failed", 2500, 2500);
    const failure = find(testcase(suiteOf(renderJunit(ws, log.events)), "B"), "failure")[0]!;
    expect(failure.attrs.message).toBe("tests_failed");
    expect(failure.text).toContain("acceptance test 1 failed (exit 1): pytest -q\nE   assert 1 == 2");
    expect(failure.text).not.toContain("tool output");
  });

  test("blocked, skipped and cancelled steps are skipped with their reason", () => {
    const log = new RunLog()
      .start("ws-report", ["A", "B", "C", "D", "E"])
      .attempt("A", 1, { passed: true })
      .end("A", "passed", "passed", 1, 1000)
      .end("D", "skipped", "skipped", 0, 0);
    // E was running when the run was interrupted; B and C never started.
    log.events.push({ type: "step-start", at: "2026-11-22T10:01:00.000Z", step: "E", attempt: 1, tool: "shell" });
    log.end("B", "cancelled", "cancelled", 0, 0).finish("cancelled", 3000, 1000);
    const suite = suiteOf(renderJunit(ws, log.events));
    const skipped = Object.fromEntries(
      find(suite, "testcase").map((c) => [c.attrs.name, find(c, "skipped")[0]?.attrs.message]),
    );
    expect(skipped).toEqual({ A: undefined, B: "cancelled", C: "not run", D: "skipped", E: "cancelled" });
    expect(suite.attrs).toMatchObject({ tests: "5", failures: "0", skipped: "4" });
  });

  test("a resumed run reports the new attempts and keeps the earlier passes", () => {
    const log = new RunLog()
      .start("ws-report", ["A", "B", "C", "D", "E"])
      .attempt("A", 1, { passed: true })
      .end("A", "passed", "passed", 1, 1000)
      .attempt("B", 1, { passed: false, tail: ["first try"] })
      .end("B", "failed", "tests_failed", 1, 2000)
      .finish("failed", 3000, 3000)
      .start("ws-report", ["A", "B", "C", "D", "E"], { selected: ["B"], resume: true })
      .attempt("B", 1, { passed: true, tail: ["second try"] })
      .end("B", "passed", "passed", 1, 1500)
      .finish("passed", 1500, 1500);
    const suite = suiteOf(renderJunit(ws, log.events));
    expect(find(suite, "testcase").map((c) => c.attrs.name)).toEqual(["A", "B"]);
    expect(suite.attrs).toMatchObject({ tests: "2", failures: "0", skipped: "0" });
    const out = find(testcase(suite, "B"), "system-out")[0]!.text;
    expect(out.match(/attempt 1/g)).toHaveLength(1);
    expect(out).toContain("passed");
  });

  test("markup, quotes, colour codes and control characters in output stay well-formed", () => {
    const nasty = `\u001b[31m<error> & "quoted" 'x' ]]> \u0000\u0007\u0008 \ud800 lone\u001b[0m\r\nend`;
    const log = new RunLog()
      .start("ws-report", ["A", "B", "C", "D", "E"], { selected: ["A"] })
      .attempt("A", 1, { passed: false, reason: "tool_error", detail: `line1\nline2 "q" <b>`, tail: [nasty] })
      .end("A", "failed", "tool_error", 1, 100)
      .finish("failed", 100, 100);
    const xml = renderJunit(ws, log.events);
    const failure = find(testcase(suiteOf(xml), "A"), "failure")[0]!;
    expect(failure.text).toContain(`<error> & "quoted" 'x' ]]> \ufffd\ufffd\ufffd \ufffd lone\r\nend`);
    expect(failure.text).not.toContain("[31m");
    expect(failure.text).toContain(`line1\nline2 "q" <b>`);
  });

  test("attribute values keep their line breaks", () => {
    const odd = makeWorkstream('ws-"odd"&<id>', [{ id: "a\tb" }]);
    const log = new RunLog()
      .start(odd.id, ["a\tb"])
      .attempt("a\tb", 1, { passed: true })
      .end("a\tb", "passed", "passed", 1, 10)
      .finish("passed", 10, 10);
    const suite = suiteOf(renderJunit(odd, log.events));
    expect(suite.attrs.name).toBe('ws-"odd"&<id>');
    expect(find(suite, "testcase")[0]!.attrs.name).toBe("a\tb");
  });

  test("any output text gives a well-formed report (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { maxLength: 5 }), fc.string({ unit: "binary" }), (tail, detail) => {
        const log = new RunLog()
          .start("ws-report", ["A", "B", "C", "D", "E"], { selected: ["A"] })
          .attempt("A", 1, { passed: false, reason: "exit:1", tail, detail })
          .end("A", "failed", "exit:1", 1, 100)
          .finish("failed", 100, 100);
        const suite = suiteOf(renderJunit(ws, log.events));
        expect(find(testcase(suite, "A"), "failure")).toHaveLength(1);
      }),
      { numRuns: 100 },
    );
  });

  test("no events: an empty, valid report", () => {
    const suite = suiteOf(renderJunit(ws, []));
    expect(suite.attrs).toMatchObject({ tests: "0", failures: "0", skipped: "0" });
  });
});

describe("parseXml (the test's own checker) rejects what it must", () => {
  test.each([
    ["<a><b></a></b>"],
    ["<a>x & y</a>"],
    ['<a x="1" x="2"/>'],
    ["<a>\u0001</a>"],
    ["<a><b></a>"],
    ["<a x='1'/>"],
    ["<a>&nope;</a>"],
  ])("%j", (xml) => {
    expect(() => parseXml(xml)).toThrow();
  });
});
