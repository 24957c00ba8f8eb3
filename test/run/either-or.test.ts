import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gitProject, readEvents, readState, ws } from "./rig.js";

afterEach(cleanup);

/** The seed's either/or merge node, as bundled: decide → prod | staging (a when each) → merge (run_if success_or_skipped). */
const EXAMPLE = fileURLToPath(new URL("../../workstreams/ws-either-or.json", import.meta.url));

describe("ws run: the either/or join (run_if success_or_skipped, issue 34)", () => {
  for (const [target, ran, skipped] of [["prod", "prod", "staging"], ["", "staging", "prod"]] as const) {
    it(`TARGET=${target || "(unset)"}: ${ran} runs, ${skipped} is skipped, merge runs once after ${ran}`, () => {
      const p = gitProject([], { "workstreams/ws-either-or.json": fs.readFileSync(EXAMPLE, "utf8") });
      const r = ws(p, ["run", "ws-either-or"], target ? { TARGET: target } : {});
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const { steps } = readState(p, "ws-either-or");
      expect(steps[ran]).toMatchObject({ state: "passed", attempts: 1 });
      expect(steps[skipped]).toMatchObject({ state: "skipped", reason: "skipped" });
      expect(steps.merge).toMatchObject({ state: "passed", attempts: 1 });
      const events = readEvents(p, "ws-either-or");
      const starts = events.filter((e) => e.type === "step-start" && e.step === "merge");
      expect(starts).toHaveLength(1);
      const branchEnd = events.findIndex((e) => e.type === "step-end" && e.step === ran);
      expect(events.indexOf(starts[0]!)).toBeGreaterThan(branchEnd);
      // The merge node built on the branch that ran: its file is on the run's branch.
      const deployed = execFileSync("git", ["show", "ws/ws-either-or:out/deployed.txt"], { cwd: p.dir, encoding: "utf8" });
      expect(deployed).toBe(`${ran}\n`);
    });
  }

  it("a failed branch blocks the merge node; ws validate accepts the value and rejects a misspelt one", () => {
    const doc = (runIf: string) => ({
      id: "eo",
      execution: { isolation: "none" },
      steps: [
        { id: "a", run: "false" },
        { id: "b", run: "true", when: false },
        { id: "join", run: "true", depends_on: ["a", "b"], run_if: runIf },
      ],
    });
    const p = gitProject([doc("success_or_skipped")]);
    const r = ws(p, ["run", "eo"]);
    expect(r.code).toBe(1);
    expect(readState(p, "eo").steps.join).toMatchObject({ state: "blocked", reason: "blocked_by:a" });
    const bad = gitProject([doc("success-or-skipped")]);
    const v = ws(bad, ["validate", "eo"]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("success_or_skipped");
  });
});
