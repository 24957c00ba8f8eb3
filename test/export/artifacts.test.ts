import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { renderGithubWorkflow } from "../../src/export/github.js";
import { buildGraph } from "../../src/graph/graph.js";
import { actionlint } from "./actionlint.js";
import { makeWorkstream } from "./make-workstream.js";

interface Job {
  steps: Array<{ name?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown>; if?: string }>;
}

const ws = makeWorkstream("ws-py", [
  { id: "test", run: "pytest" },
  { id: "build", run: "python -m build", dependsOn: ["test"] },
  { id: "report", run: "cat \"$WS_NEEDS_FILE\"", dependsOn: ["test", "build"], runIf: "always" },
]);
ws.steps[1]!.artifacts = ["dist/*.tar.gz", "dist/*.whl"];

function exported(): { text: string; jobs: Record<string, Job> } {
  const text = renderGithubWorkflow(ws, buildGraph(ws), { ws: { kind: "tarball", path: "vendor/ws-orchestrator.tgz" } });
  return { text, jobs: (parse(text) as { jobs: Record<string, Job> }).jobs };
}

describe("ws export github: artifacts and needs", () => {
  test("a step with artifacts uploads what ws copied for it, after ws run, only when it passed", async () => {
    const { text, jobs } = exported();
    expect(await actionlint(text)).toEqual([]);
    const steps = jobs.build!.steps;
    const upload = steps.find((s) => s.name === "Upload the step's artifacts");
    expect(upload).toEqual({
      name: "Upload the step's artifacts",
      uses: "actions/upload-artifact@v4",
      with: { name: "ws-artifacts-build", path: ".worktrees/ws-py/artifacts/build/", "if-no-files-found": "warn" },
    });
    expect(steps.indexOf(upload!)).toBeGreaterThan(steps.findIndex((s) => s.run?.includes("ws run") === true));
    expect(jobs.test!.steps.some((s) => s.name === "Upload the step's artifacts")).toBe(false);
  });

  test("a run_if step's ws run is given GitHub's needs as WS_NEEDS; a plain step is not", () => {
    const { jobs } = exported();
    const run = (job: string) => jobs[job]!.steps.find((s) => s.run?.includes("ws run") === true)!;
    expect(run("report").env).toEqual({ WS_NEEDS: "${{ toJSON(needs) }}" });
    expect(run("build").env).toBeUndefined();
  });
});
