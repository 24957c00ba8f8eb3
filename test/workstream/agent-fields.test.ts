import { describe, expect, it } from "vitest";
import { errors, loadText } from "./helpers.js";

describe("issue 10's fields: tool lists, budget, circuit_breaker.max_wait", () => {
  it("a tool list names fallbacks; the first is the step's tool", async () => {
    const result = await loadText("f.json", { id: "f", steps: [{ id: "a", tool: ["claude", "codex"], tasks: ["x"], file_scope: ["a"] }] });
    if (!result.ok) throw new Error("expected a valid workstream");
    expect(result.workstream.steps[0]).toMatchObject({ tool: "claude", tools: ["claude", "codex"] });
    expect(result.workstream.circuitBreaker.maxWait).toBe(1800);
  });

  it("circuit_breaker.network_wait: seconds, default 0 (an unreachable tool is unusable for the run); a negative one is an error", async () => {
    const set = await loadText("n.json", { id: "n", circuit_breaker: { network_wait: 120 }, steps: [{ id: "a", tool: "claude", tasks: ["x"], file_scope: ["a"] }] });
    if (!set.ok) throw new Error("expected a valid workstream");
    expect(set.workstream.circuitBreaker.networkWait).toBe(120);
    const unset = await loadText("d.json", { id: "d", steps: [{ id: "a", tool: "claude", tasks: ["x"], file_scope: ["a"] }] });
    if (!unset.ok) throw new Error("expected a valid workstream");
    expect(unset.workstream.circuitBreaker.networkWait).toBe(0);
    const bad = errors(await loadText("b.json", { id: "b", circuit_breaker: { network_wait: -1 }, steps: [{ id: "a", tool: "claude", tasks: ["x"], file_scope: ["a"] }] }));
    expect(bad.map((e) => e.message).join("\n")).toContain("network_wait");
  });

  it("an unknown tool in a list points at that entry; shell is no fallback", async () => {
    const unknown = errors(await loadText("u.json", { id: "u", steps: [{ id: "a", tool: ["claude", "codx"], tasks: ["x"], file_scope: ["a"] }] }));
    expect(unknown.map((e) => e.message)).toContain('unknown tool "codx"');
    expect(unknown[0]?.location?.line).toBeGreaterThan(0);
    const shell = errors(await loadText("s.json", { id: "s", steps: [{ id: "a", tool: ["claude", "shell"], tasks: ["x"], file_scope: ["a"] }] }));
    expect(shell.map((e) => e.message).join("\n")).toContain('lists "shell" among fallback tools');
  });

  it("budget and max_wait are checked: unknown keys, negative or zero limits, an empty tool list", async () => {
    const bad = errors(
      await loadText("b.json", {
        id: "b",
        budget: { max_cost: 1 },
        circuit_breaker: { max_wait: -1 },
        steps: [{ id: "a", tool: [], tasks: ["x"], file_scope: ["a"], budget: { max_tokens: 0, max_turns: 1.5 } }],
      }),
    );
    expect(bad.length).toBeGreaterThanOrEqual(4);
    const text = bad.map((e) => e.message).join("\n");
    expect(text).toContain("max_cost");
  });
});
