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

  it("ignores empty feedback", () => {
    expect(buildPrompt(makeContext(makeStep(), { attempt: 2, feedback: "  \n" }))).not.toContain("Previous attempt failed");
  });
});
