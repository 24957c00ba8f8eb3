import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pngSize, svgTexts } from "../render/svg-text.js";
import { cleanEnv, removeTempProjects, tempProject, wsBytes } from "../helpers/cli.js";

const EXAMPLE = path.resolve(import.meta.dirname, "../fixtures/render/ws-deploy-pipeline.json");
const IDS = ["prepare", "unit-tests", "integration-tests", "e2e-tests", "deploy-staging", "deploy-docs", "update-cdn", "smoke-tests", "deploy-production", "post-deploy"];

let root: string;

beforeAll(() => {
  root = tempProject("ws-graph-");
  fs.mkdirSync(path.join(root, "workstreams"));
  fs.copyFileSync(EXAMPLE, path.join(root, "workstreams", "ws-deploy-pipeline.json"));
});

afterAll(() => removeTempProjects());

interface Result {
  code: number;
  stdout: Buffer;
  stderr: string;
}

// Bytes, not text: one case reads a PNG from stdout.
async function ws(...args: string[]): Promise<Result> {
  const r = wsBytes(["--cwd", root, ...args], { cwd: root, env: cleanEnv({ NO_COLOR: "1" }) });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("ws graph (built binary)", () => {
  it("--format mermaid: exit 0, every step and edge", async () => {
    const r = await ws("graph", "--ws-id", "ws-deploy-pipeline", "--format", "mermaid");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text.startsWith("flowchart LR\n")).toBe(true);
    for (const id of IDS) expect(text).toContain(`["${id}"]`);
    expect(text).toContain("s_prepare --> s_e2e_tests");
    expect(text).toContain("s_smoke_tests --> s_deploy_production");
    expect(text.match(/-->/g)).toHaveLength(17);
  });

  it("--format ascii (the default) lists every step by wave", async () => {
    const r = await ws("graph", "--ws-id", "ws-deploy-pipeline");
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    for (const id of IDS) expect(text).toMatch(new RegExp(`^  ${id}\\b`, "m"));
    expect(text).toContain("wave 6");
    expect(text).not.toContain("\u001b[");
  });

  it("--format json matches the workstream", async () => {
    const r = await ws("graph", "--ws-id", "ws-deploy-pipeline", "--format", "json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.toString());
    expect(doc.nodes.map((n: { id: string }) => n.id)).toEqual(IDS);
    expect(doc.waves).toEqual([
      ["prepare"],
      ["unit-tests", "integration-tests", "e2e-tests"],
      ["deploy-staging", "deploy-docs", "update-cdn"],
      ["smoke-tests"],
      ["deploy-production"],
      ["post-deploy"],
    ]);
    expect(doc.edges).toHaveLength(3 + 9 + 3 + 1 + 1);
    expect(doc.criticalPath[0]).toBe("prepare");
    expect(doc.criticalPath.at(-1)).toBe("post-deploy");
  });

  it("--format png to a pipe writes PNG bytes", async () => {
    const r = await ws("graph", "--ws-id", "ws-deploy-pipeline", "--format", "png");
    expect(r.code).toBe(0);
    const size = pngSize(r.stdout);
    expect(size.width).toBeGreaterThan(400);
    expect(size.height).toBeGreaterThan(100);
  });

  it("-o out.svg writes the file and nothing to stdout", async () => {
    const r = await ws("graph", "--ws-id", "ws-deploy-pipeline", "--format", "svg", "-o", "out/graph.svg");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
    const texts = svgTexts(fs.readFileSync(path.join(root, "out", "graph.svg"), "utf8"));
    for (const id of IDS) expect(texts).toContain(id);
  });

  it("an unknown id exits 2 with a suggestion", async () => {
    const r = await ws("graph", "--ws-id", "ws-deploy-pipelin", "--format", "dot");
    expect(r.code).toBe(2);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toContain("ws-deploy-pipeline");
  });
});
