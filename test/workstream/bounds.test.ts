import { describe, expect, it } from "vitest";
import { errors, loadText } from "./helpers.js";

// Waits past Node's timer limit (~24.8 days) fired at once with a TimeoutOverflowWarning, thousands
// of times: the schema bounds every number of seconds to a sane maximum.
describe("bounded seconds", () => {
  it("rejects a rate_limit_delay or a breaker cooldown over a day, and a timeout over a week", async () => {
    const found = errors(
      await loadText("s.json", {
        id: "s",
        execution: { rate_limit_delay: 1e9, timeout_per_step: 1e12 },
        circuit_breaker: { cooldown: 86401 },
        steps: [{ id: "a", run: "true", timeout: 604801, acceptance_tests: [{ run: "true", timeout: 1e9 }] }],
      }),
    ).map((e) => e.message);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/execution\.rate_limit_delay must be <= 86400/),
        expect.stringMatching(/execution\.timeout_per_step must be <= 604800/),
        expect.stringMatching(/circuit_breaker\.cooldown must be <= 86400/),
        expect.stringMatching(/steps\[0\]\.timeout must be <= 604800/),
        expect.stringMatching(/steps\[0\]\.acceptance_tests\[0\]\.timeout must be <= 604800/),
      ]),
    );
  });

  it("rejects an interpolated delay that resolves past the bound", async () => {
    const doc = { id: "s", execution: { rate_limit_delay: "${env.WS_TEST_DELAY}" }, steps: [{ id: "a", run: "true" }] };
    const found = errors(await loadText("s.json", doc, { WS_TEST_DELAY: "100000" }));
    expect(found.map((e) => e.message).join("\n")).toMatch(/rate_limit_delay must be <= 86400/);
  });

  it("accepts the maxima themselves", async () => {
    const found = errors(
      await loadText("s.json", {
        id: "s",
        execution: { rate_limit_delay: 86400, timeout_per_step: 604800 },
        circuit_breaker: { cooldown: 86400 },
        steps: [{ id: "a", run: "true", timeout: 604800 }],
      }),
    );
    expect(found).toEqual([]);
  });
});
