import { describe, expect, it } from "vitest";
import { reasonText } from "../../src/events/end-reason.js";
import { causeLine } from "../../src/format/cause-line.js";
import { formatTokens, formatUsage } from "../../src/format/usage.js";

/** Issue 33.5: the reason a CI summary shows is the failure's cause, not `exit:1: command exited with code 1`. */
describe("causeLine", () => {
  it("gives pytest's count line with the first failed test of its short summary", () => {
    const tail = [
      "=========================== short test summary info ============================",
      "FAILED tests/test_encoding.py::test_roundtrip - ImportError: cannot import name 'base64_roundtrip'",
      "FAILED tests/test_signer.py::test_sign - AssertionError",
      "\u001b[31m========================= 2 failed, 295 passed in 0.52s =========================\u001b[0m",
    ];
    expect(causeLine(tail, 1)).toBe("2 failed, 295 passed in 0.52s; FAILED tests/test_encoding.py::test_roundtrip - ImportError: cannot import name 'base64_roundtrip' (+1 more)");
    expect(causeLine(["..F", "1 failed, 2 passed in 0.01s"], 1)).toBe("1 failed, 2 passed in 0.01s");
  });

  it("takes jest's, vitest's and node's count line over the timings after it", () => {
    const jest = ["● sum › adds", "Test Suites: 1 failed, 1 total", "Tests:       1 failed, 2 passed, 3 total", "Snapshots:   0 total", "Time:        0.5 s", "Ran all test suites."];
    expect(causeLine(jest, 1)).toBe("Tests: 1 failed, 2 passed, 3 total");
    const vitest = [" Test Files  1 failed (1)", "      Tests  1 failed | 2 passed (3)", "   Start at  10:00:00", "   Duration  300ms"];
    expect(causeLine(vitest, 1)).toBe("Tests 1 failed | 2 passed (3)");
    expect(causeLine(["# tests 3", "# suites 0", "# pass 2", "# fail 1", "# cancelled 0", "# skipped 0", "# todo 0", "# duration_ms 52.1"], 1)).toBe("# fail 1");
    expect(causeLine(["--- FAIL: TestX (0.00s)", "FAIL\texample.com/x\t0.01s", "FAIL"], 1)).toBe("FAIL example.com/x 0.01s");
  });

  it("reads mocha's, jasmine's, ava's and uvu's counts, and names the first FAIL", () => {
    expect(causeLine(["  2 passing (5ms)", "  1 failing", "", "  1) sum", "     adds:", "     AssertionError: expected 3"], 1)).toBe("1 failing");
    expect(causeLine(["5 specs, 2 failures", "Finished in 0.01 seconds"], 1)).toBe("5 specs, 2 failures");
    expect(causeLine(["✘ sum › adds", "─", "2 tests failed"], 1)).toBe("2 tests failed");
    // kleur's `npm test` (uvu) with a broken colour code: its counts, and the first test that failed.
    const uvu = ["test/index.js", "• ✘ ✘ •   (2 / 4)", "   FAIL  \"codes\"", "    ~> matches expected  (is)", "   FAIL  \"chains\"", "  Total:     15", "  Passed:    9", "  Skipped:   0", "  Duration:  3.40ms"];
    expect(causeLine(uvu, 1)).toBe('Total: 15, Passed: 9; FAIL "codes" and more');
  });

  it("passes over what npm, pnpm and make print after the cause", () => {
    expect(causeLine(["src/a.ts(3,1): error TS2304: Cannot find name 'x'.", "npm error Lifecycle script `typecheck` failed with error:", "npm error code 2", "npm error path /p", "npm error command failed", "npm error command sh -c tsc"], 2)).toBe(
      "src/a.ts(3,1): error TS2304: Cannot find name 'x'.",
    );
    expect(causeLine(["Error: boom", " ELIFECYCLE  Command failed with exit code 1."], 1)).toBe("Error: boom");
    expect(causeLine(["cc: error: x.c: No such file", "make: *** [Makefile:3: all] Error 1"], 2)).toBe("cc: error: x.c: No such file");
    // Only noise: it is still better than nothing.
    expect(causeLine(["npm error Missing script: \"lint\""], 1)).toBe('npm error Missing script: "lint"');
  });

  it("says not found for exit 127, in any shell's words, and even when nothing was printed", () => {
    expect(causeLine(["/bin/sh: 1: .venv/bin/python: not found"], 127)).toBe("not found: .venv/bin/python");
    expect(causeLine(["bash: line 1: pytest: command not found"], 127)).toBe("not found: pytest");
    expect(causeLine([], 127)).toBe("not found (the shell found no such command)");
  });

  it("gives nothing for silent output, rules only, and clips a long line", () => {
    expect(causeLine(["", "   ", "-----"], 1)).toBeUndefined();
    expect(causeLine(["x".repeat(500)], 1)).toHaveLength(200);
  });
});

describe("reasonText", () => {
  it("the code and the cause; a detail that only restates the exit is left out; 127 says not found", () => {
    expect(reasonText({ kind: "exit", code: 1 }, "1 failed, 2 passed in 0.01s")).toBe("exit:1: 1 failed, 2 passed in 0.01s");
    expect(reasonText({ kind: "exit", code: 1 }, "command exited with code 1")).toBe("exit:1");
    expect(reasonText({ kind: "exit", code: 127 }, "command exited with code 127")).toBe("exit:127: not found");
    expect(reasonText({ kind: "tests_failed" }, "acceptance test 1 exited 1: 1 failed ($ pytest -q)\nmore")).toBe("tests_failed: acceptance test 1 exited 1: 1 failed ($ pytest -q)");
    expect(reasonText({ kind: "blocked_by", step: "a" }, undefined)).toBe("blocked_by:a");
  });
});

describe("tokens", () => {
  it("one figure and one number format in a table cell and in a summary's totals", () => {
    const usage = { costUsd: 0.5, inputTokens: 48000, outputTokens: 1200 };
    expect(formatUsage(usage)).toBe("$0.5000 49,200 tok");
    expect(formatTokens(usage)).toBe("49,200 tok (48,000 in, 1,200 out)");
    expect(formatTokens({ costUsd: 1 })).toBe("");
  });
});
