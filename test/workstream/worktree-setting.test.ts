import { describe, expect, it } from "vitest";
import { errors, loadText } from "./helpers.js";

const steps = [{ id: "a", run: "echo a" }];

describe("the worktree setting", () => {
  it("is normalized: paths cleaned (./.env, node_modules/), setup kept; absent means nothing to bring", async () => {
    const result = await loadText("w.json", { id: "w", worktree: { copy: ["./.env"], link: ["node_modules/"], setup: "npm ci" }, steps });
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.workstream.worktree).toEqual({ copy: [".env"], link: ["node_modules"], setup: "npm ci" });
    const bare = await loadText("w.json", { id: "w", steps });
    if (!bare.ok) throw new Error("expected a valid workstream");
    expect(bare.workstream.worktree).toEqual({ copy: [], link: [], setup: undefined });
  });

  it("rejects absolute and escaping paths, unknown keys and an empty setup, each at file:line:col with the fix", async () => {
    const text = `{
  "id": "w",
  "worktree": {
    "copy": ["/etc/passwd", "../secrets/.env"],
    "link": ["node_modules"],
    "setpu": "npm ci",
    "setup": ""
  },
  "steps": [{ "id": "a", "run": "x" }]
}
`;
    const found = errors(await loadText("w.json", text));
    const summary = found.map((d) => [d.location?.line, d.location?.col, d.message, d.fix]);
    expect(summary).toEqual(expect.arrayContaining([
      [4, 14, expect.stringMatching(/worktree.copy\[0\] must be a path relative to the project folder, without ".."/), undefined],
      [4, 29, expect.stringMatching(/worktree.copy\[1\] must be a path relative to the project folder/), undefined],
      [6, 5, 'unknown key "setpu" in worktree', 'did you mean "setup"?'],
      [7, 14, expect.stringMatching(/worktree.setup/), undefined],
    ]));
    expect(found).toHaveLength(4);
  });
});
