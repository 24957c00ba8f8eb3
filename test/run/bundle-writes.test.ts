import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, ws } from "./rig.js";

afterEach(cleanup);

/**
 * The CLI runs from an esbuild bundle (scripts/bundle.mjs): code that works from tsc's modules can
 * fail only when it runs there (write-file-atomic named __filename in the ES module bundle, at the
 * duration history's write after the last step; the CommonJS bundle stands in for import.meta.url).
 * A run through the binary writes every file of its state, none of them said to have failed.
 */
describe("the bundled binary", () => {
  it("writes the run's duration history and state without a failed write", () => {
    const p = makeProject([{ id: "one", defaults: { tool: "shell" }, steps: [{ id: "a", run: "true" }] }]);
    const run = ws(p, ["run", "one"]);
    expect(run.code).toBe(0);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/cannot write|not recorded|is not defined/);
    const history = JSON.parse(fs.readFileSync(path.join(p.dir, ".worktrees/one/history.json"), "utf8")) as unknown;
    expect(JSON.stringify(history)).toContain('"a"');
  });
});
