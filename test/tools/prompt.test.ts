import { describe, expect, it } from "vitest";
import { buildPrompt } from "../../src/tools/prompt.js";
import { makeContext, makeStep } from "./helpers.js";

describe("buildPrompt", () => {
  it("has the description, numbered tasks, the files that may change and the read-only context", () => {
    const step = makeStep({ description: "Math utils", tasks: ["add", "divide raises on zero"], fileScope: ["src/math.py"], readOnly: ["README.md"] });
    const prompt = buildPrompt(makeContext(step));
    expect(prompt).toContain("# Math utils");
    expect(prompt).toContain("1. add\n2. divide raises on zero");
    expect(prompt).toMatch(/Files you may change[\s\S]*- src\/math\.py/);
    expect(prompt).toMatch(/Read-only context[\s\S]*- README\.md/);
    expect(prompt).not.toContain("Previous attempt failed");
  });

  it("on a retry ends with the failing output, capped to its last lines, fenced so it cannot break out", () => {
    const output = Array.from({ length: 300 }, (_, i) => `line ${i}`).join("\n") + "\n```\nEND";
    const prompt = buildPrompt(makeContext(makeStep(), { attempt: 3, feedback: output }));
    expect(prompt).toContain("This is attempt 3.");
    expect(prompt).toContain("line 299\n```\nEND\n````");
    expect(prompt).not.toContain("line 100\n");
    expect(prompt).toMatch(/````\nline \d+/);
  });

  it("names the acceptance tests that decide the step, and that they run in its worktree, from the first attempt on", () => {
    const step = makeStep({ acceptanceTests: [{ run: "npm test -- math" }, { run: "grep -q 'def add' src/math.py", timeout: 30 }] });
    const prompt = buildPrompt(makeContext(step));
    expect(prompt).toMatch(/## How your work is judged\n.*in your working directory \(this step's own worktree/);
    expect(prompt).toContain("```\nnpm test -- math\ngrep -q 'def add' src/math.py\n```");
    expect(prompt).toContain("Run them yourself before you finish.");
    // Before the rules, and before a retry's failing output.
    const retry = buildPrompt(makeContext(step, { attempt: 2, feedback: "FAILED test_add" }));
    expect(retry.indexOf("How your work is judged")).toBeLessThan(retry.indexOf("Previous attempt failed"));
    expect(buildPrompt(makeContext(makeStep()))).not.toContain("How your work is judged");
  });

  it("ignores empty feedback", () => {
    expect(buildPrompt(makeContext(makeStep(), { attempt: 2, feedback: "  \n" }))).not.toContain("Previous attempt failed");
  });
});
