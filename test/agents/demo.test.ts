import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo, status } from "../git/make-repo.js";
import { REPO, cleanup, events, existingProject, filesOf, git, outcomes, readState, run, subjects } from "./rig.js";

afterEach(cleanup);

describe("the bundled ws-agents-demo", () => {
  it("runs green in a temp git repo holding the repo's workstreams/ and examples/: a failed test fixed on retry, one commit per step", () => {
    const dir = makeRepo();
    for (const folder of ["workstreams", "examples"]) fs.cpSync(path.join(REPO, folder), path.join(dir, folder), { recursive: true });
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "bundled workstreams and examples");
    const project = existingProject(dir, "ws-agents-demo");
    const before = status(dir);

    const r = run(project);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(outcomes(project)).toEqual({
      "step-01-slugify": ["passed", 1, "passed"],
      "step-02-word-count": ["passed", 2, "passed"],
      "step-03-title-card": ["passed", 1, "passed"],
    });
    // The retry was caused by the acceptance test, and its prompt carried the failure.
    const failed = events(project).filter((e) => e.type === "attempt-end" && e.passed === false);
    expect(failed.map((e) => [e.step, e.attempt, e.reason])).toEqual([["step-02-word-count", 1, "tests_failed"]]);
    const prompt2 = fs.readFileSync(path.join(project.stepDir("step-02-word-count"), "prompt-2.md"), "utf8");
    expect(prompt2).toContain("## Previous attempt failed");
    expect(prompt2).toMatch(/AssertionError|!==/);

    // The two independent steps join in the order they passed; both commits often carry the same
    // second, so git log may list either first: the order between them is not the point here.
    const log = subjects(dir, "ws/ws-agents-demo");
    expect([log[0], new Set(log.slice(1, 3)), ...log.slice(3)]).toEqual([
      "ws(step-03-title-card): Combine both into a title card",
      new Set(["ws(step-02-word-count): Create a word counter", "ws(step-01-slugify): Create a slugify helper"]),
      "bundled workstreams and examples",
      "initial",
    ]);
    const steps = readState(project).steps;
    expect(filesOf(dir, steps["step-01-slugify"]?.commit ?? "")).toEqual(["demo/agents/slugify.mjs"]);
    expect(filesOf(dir, steps["step-02-word-count"]?.commit ?? "")).toEqual(["demo/agents/word-count.mjs"]);
    expect(filesOf(dir, steps["step-03-title-card"]?.commit ?? "")).toEqual(["demo/agents/title-card.mjs"]);
    expect(r.stdout).toContain("git merge ws/ws-agents-demo");
    expect(status(dir)).toEqual(before);
    expect(fs.existsSync(path.join(dir, "demo"))).toBe(false);

    // Merged as the summary says, the work does what the last step's test asked.
    git(dir, "merge", "--ff-only", "-q", "ws/ws-agents-demo");
    const card = execFileSync(process.execPath, ["--input-type=module", "-e", "import { titleCard } from './demo/agents/title-card.mjs'; process.stdout.write(titleCard('Merged  into main'));"], { cwd: dir, encoding: "utf8" });
    expect(card).toBe("merged-into-main (3 words)");
  });
});
