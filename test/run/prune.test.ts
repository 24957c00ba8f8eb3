import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeProject, readState, wsc } from "./rig.js";

/** Issue 22, point 1: a skipped step prunes its branch, as in GitHub Actions. */

afterAll(cleanup);

describe("a skipped step's dependents", () => {
  it("are skipped (skipped_by, in the table and in status) unless run_if always; the run passes", async () => {
    const p = makeProject([
      {
        id: "prune",
        steps: [
          { id: "prod", run: "echo deploy", when: false },
          { id: "after-prod", run: "echo after", depends_on: ["prod"] },
          { id: "tag", run: "echo tag", depends_on: ["after-prod"] },
          { id: "report", run: "echo report", depends_on: ["prod"], run_if: "always" },
          { id: "other", run: "echo other" },
        ],
      },
    ]);
    const r = await wsc(p, ["run", "prune"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // state.json keeps reasons in their printed form.
    const steps = readState(p, "prune").steps as Record<string, { state: string; reason?: string }>;
    expect(steps["after-prod"]).toMatchObject({ state: "skipped", reason: "skipped_by:prod" });
    expect(steps.tag).toMatchObject({ state: "skipped", reason: "skipped_by:prod" });
    expect(steps.report?.state).toBe("passed");
    expect(steps.other?.state).toBe("passed");
    expect(r.stdout).toMatch(/after-prod\s.*skipped.*skipped_by:prod/);
    expect((await wsc(p, ["status", "prune"])).stdout).toMatch(/tag\s.*skipped_by:prod/);
  });
});
