import { describe, expect, it } from "vitest";
import { errors, loadText } from "./helpers.js";

describe("sandbox and inherit_env fields", () => {
  it("normalizes execution.sandbox (network on by default, ~/ is HOME) and merges inherit_env of the workstream and the step", async () => {
    const result = await loadText(
      "s.json",
      {
        id: "s",
        inherit_env: ["GITHUB_TOKEN"],
        execution: { isolation: "sandbox", sandbox: { writable: ["~/.cache/tool", "/var/tmp/x"] } },
        steps: [{ id: "a", run: "x", inherit_env: ["AWS_*", "GITHUB_TOKEN"] }, { id: "b", run: "y" }],
      },
      { HOME: "/home/me" },
    );
    expect(errors(result)).toEqual([]);
    if (!result.ok) throw new Error("expected a valid workstream");
    const ws = result.workstream;
    expect(ws.execution).toMatchObject({ isolation: "sandbox", sandbox: { network: true, writable: ["/home/me/.cache/tool", "/var/tmp/x"] } });
    expect(ws.steps[0]?.inheritEnv).toEqual(["GITHUB_TOKEN", "AWS_*"]);
    expect(ws.steps[1]?.inheritEnv).toEqual(["GITHUB_TOKEN"]);
  });

  it.each([
    [{ execution: { sandbox: { network: "no" } } }, /network must be/],
    [{ execution: { sandbox: { writable: ["relative/dir"] } } }, /absolute path/],
    [{ execution: { sandbox: { netwrok: false } } }, /netwrok/],
    [{ inherit_env: ["NOT-A-NAME"] }, /variable name/],
  ])("rejects %j", async (patch, message) => {
    const result = await loadText("r.json", { id: "r", steps: [{ id: "a", run: "x" }], ...patch });
    expect(errors(result).map((d) => d.message)).toContainEqual(expect.stringMatching(message));
  });
});
