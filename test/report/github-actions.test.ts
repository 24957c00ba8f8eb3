import { describe, expect, test } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { escapeData, escapeProperty, githubActionsLines } from "../../src/report/github-actions.js";
import { RunLog } from "./run-events.js";

function eventsOf(log: RunLog, type: RunEvent["type"]): RunEvent[] {
  return log.events.filter((e) => e.type === type);
}

describe("escaping per the workflow-commands spec", () => {
  test("data: % CR LF", () => {
    expect(escapeData("100% done\r\nnext: a,b")).toBe("100%25 done%0D%0Anext: a,b");
  });
  test("property: also : and ,", () => {
    expect(escapeProperty("step a:b, 50%\n")).toBe("step a%3Ab%2C 50%25%0A");
  });
});

describe("githubActionsLines", () => {
  const log = new RunLog()
    .start("ws-gh", ["A", "B"])
    .attempt("A", 1, { passed: false, tail: ["line 1", "::add-mask::secret", "line 3"], detail: "tool crashed" }, [
      { command: "npm test", passed: false, exitCode: 1, tail: ["1 failing"] },
    ])
    .end("A", "failed", "tests_failed", 1, 1000)
    .end("B", "blocked", "blocked_by:A", 0, 0);

  test("each attempt's output is one balanced group, fenced against injected commands", () => {
    const lines = githubActionsLines(eventsOf(log, "attempt-end")[0]!);
    expect(lines[0]).toBe("::group::step A (attempt 1): tests_failed");
    expect(lines[lines.length - 1]).toBe("::endgroup::");
    const stop = /^::stop-commands::(ws-[0-9a-f-]+)$/.exec(lines[1]!);
    expect(stop).not.toBeNull();
    expect(lines[lines.length - 2]).toBe(`::${stop![1]}::`);
    expect(lines.slice(2, -2)).toEqual(["tool crashed", "line 1", "::add-mask::secret", "line 3"]);
    // A new token each time: agent output cannot guess it.
    expect(githubActionsLines(eventsOf(log, "attempt-end")[0]!)[1]).not.toBe(lines[1]);
  });

  test("each test's output is a group too", () => {
    const lines = githubActionsLines(eventsOf(log, "test-end")[0]!);
    expect(lines[0]).toBe("::group::step A (attempt 1) test 1: exit:1: npm test");
    expect(lines).toContain("1 failing");
    expect(lines[lines.length - 1]).toBe("::endgroup::");
  });

  test("a failed step is an error annotation; a blocked one a warning", () => {
    const [failed, blocked] = eventsOf(log, "step-end");
    expect(githubActionsLines(failed!)).toEqual(["::error title=ws step A failed::tests_failed after 1 attempt"]);
    // An attempt cut short (Ctrl-C, then --resume) was no try: it is said apart.
    if (failed?.type !== "step-end") throw new Error("not a step-end");
    expect(githubActionsLines({ ...failed, attempts: 3, interrupted: 1 })).toEqual(["::error title=ws step A failed::tests_failed after 2 attempts and 1 interrupted"]);
    expect(githubActionsLines(blocked!)).toEqual(["::warning title=ws step B blocked::blocked_by:A"]);
    // The cause goes on the annotation (issue 33.5); a detail that only restates the exit does not.
    expect(githubActionsLines({ ...failed!, reason: { kind: "exit", code: 1 }, detail: "1 failed, 2 passed in 0.01s" } as typeof failed)).toEqual(["::error title=ws step A failed::exit:1 after 1 attempt: 1 failed, 2 passed in 0.01s"]);
    expect(githubActionsLines({ ...failed!, reason: { kind: "exit", code: 1 }, detail: "command exited with code 1" } as typeof failed)).toEqual(["::error title=ws step A failed::exit:1 after 1 attempt"]);
  });

  test("warnings are escaped; quiet events print nothing", () => {
    const warning: RunEvent = { type: "warning", at: "2026-11-22T10:00:00Z", message: "scope: 2 files\n50% over", step: "x:y" };
    expect(githubActionsLines(warning)).toEqual(["::warning title=ws step x%3Ay::scope: 2 files%0A50%25 over"]);
    for (const type of ["run-start", "step-start", "test-start"] as const) {
      expect(githubActionsLines(eventsOf(log, type)[0]!)).toEqual([]);
    }
    const passed = new RunLog().start("w", ["A"]).attempt("A", 1, { passed: true }).end("A", "passed", "passed", 1, 1);
    expect(githubActionsLines(eventsOf(passed, "step-end")[0]!)).toEqual([]);
  });

  test("no output, no group", () => {
    const quiet = new RunLog().start("w", ["A"]).attempt("A", 1, { passed: true }, [{ command: "true", passed: true }]);
    expect(githubActionsLines(eventsOf(quiet, "attempt-end")[0]!)).toEqual([]);
    expect(githubActionsLines(eventsOf(quiet, "test-end")[0]!)).toEqual([]);
  });
});
