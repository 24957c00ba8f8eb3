import { describe, expect, it } from "vitest";
import { redactDeep, secretValues, withheldSecrets } from "../../src/proc/secrets.js";

describe("secret values in events", () => {
  it("takes the values of secret-looking names from 3 characters on, longest first", () => {
    const values = secretValues([{ DB_PASSWORD: "hunter2", GITHUB_TOKEN: "ghp_0123456789", PIN_SECRET: "42", NAME: "visible-value" }]);
    expect(values).toEqual(["ghp_0123456789", "hunter2"]);
  });

  it("masks a long value anywhere, a short one only as a whole word and only inside strings", () => {
    const values = secretValues([{ GITHUB_TOKEN: "ghp_0123456789", DB_PASSWORD: "hunter2", FLAG_SECRET: "true", MODE_TOKEN: "test", KIND_SECRET: "exit" }]);
    const event = {
      type: "test-end",
      passed: true,
      reason: { kind: "tests_failed" },
      tail: ["token=ghp_0123456789x", "login hunter2 ok", "hunter22 is another word", "pw:\nhunter2", "testing the test", "it is true"],
      detail: "hunter2",
      step: "test",
      attempt: { reason: { kind: "exit", code: 1 } },
      approval: { reason: "no exit today" },
    };
    expect(redactDeep(event, values)).toEqual({
      type: "test-end",
      passed: true,
      reason: { kind: "tests_failed" },
      tail: ["token=***x", "login *** ok", "hunter22 is another word", "pw:\n***", "testing the ***", "it is ***"],
      detail: "***",
      step: "test",
      attempt: { reason: { kind: "exit", code: 1 } },
      approval: { reason: "no *** today" },
    });
  });

  it("gives back the very object when no secret occurs", () => {
    const event = { type: "warning", message: "nothing to hide here" };
    expect(redactDeep(event, ["hunter2", "ghp_0123456789"])).toBe(event);
  });
});

describe("withheld secrets", () => {
  it("answers the same for a frozen layer asked again, and reads a layer that is not frozen anew", () => {
    const inherited = Object.freeze({ HOME: "/h", OPENAI_API_KEY: "k1", MY_TOKEN: "t" });
    const own: Record<string, string> = { PATH: "/bin" };
    expect(withheldSecrets([inherited, own], [])).toEqual(["MY_TOKEN", "OPENAI_API_KEY"]);
    own.GITHUB_TOKEN = "g";
    expect(withheldSecrets([inherited, own], ["OPENAI_*"])).toEqual(["GITHUB_TOKEN", "MY_TOKEN"]);
    // The later layer decides, as in a spread: an unset value there leaves nothing to withhold.
    expect(withheldSecrets([inherited, { MY_TOKEN: undefined }], [], [])).toEqual(["OPENAI_API_KEY"]);
    expect(withheldSecrets([inherited, inherited], [], ["MY_TOKEN"])).toEqual(["OPENAI_API_KEY"]);
  });
});
