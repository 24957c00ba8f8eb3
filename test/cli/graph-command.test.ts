import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/context.js";
import { graphCommand } from "../../src/cli/graph.js";
import { drawnWeights, workstreamView } from "../../src/render/workstream-view.js";
import { diamond, makeState } from "../render/helpers.js";
import { isUserError } from "../../src/errors.js";
import type { RunState } from "../../src/store/run-state.js";
import { wsPaths } from "../../src/store/paths.js";

const EXAMPLE = path.resolve(import.meta.dirname, "../fixtures/render/ws-deploy-pipeline.json");
let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "ws-graph-cmd-"));
  fs.mkdirSync(path.join(root, "workstreams"));
  fs.copyFileSync(EXAMPLE, path.join(root, "workstreams", "ws-deploy-pipeline.json"));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function context(options: { tty: boolean; columns?: number }): CliContext & { written: () => string } {
  const chunks: Buffer[] = [];
  const sink = () =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
  const stdout = Object.assign(sink(), { isTTY: options.tty, columns: options.columns });
  return {
    cwd: root,
    base: root,
    dir: path.join(root, "workstreams"),
    color: false,
    quiet: false,
    verbose: false,
    interactive: options.tty,
    stdout,
    stderr: sink(),
    env: {},
    stdoutClosed: () => false,
    written: () => Buffer.concat(chunks).toString(),
  };
}

describe("graphCommand", () => {
  it("refuses to write png or svg to a terminal and says how to get it", async () => {
    for (const format of ["png", "svg"]) {
      const ctx = context({ tty: true });
      const error = await graphCommand({ wsId: "ws-deploy-pipeline", format }, ctx).catch((e: unknown) => e);
      expect(isUserError(error)).toBe(true);
      expect((error as Error).message).toMatch(/use -o FILE or pipe it/);
      expect((error as { exitCode: number }).exitCode).toBe(2);
      expect(ctx.written()).toBe("");
    }
  });

  it("colours nodes by the last run's state (read from state.json)", async () => {
    const paths = wsPaths(root, "ws-deploy-pipeline");
    fs.mkdirSync(paths.root, { recursive: true });
    const state: RunState = {
      version: 1,
      runId: "run-x",
      wsId: "ws-deploy-pipeline",
      file: "workstreams/ws-deploy-pipeline.json",
      hash: "0",
      pid: 1,
      startedAt: "2026-11-22T10:00:00.000Z",
      status: "failed",
      workdir: root,
      order: ["prepare", "unit-tests"],
      steps: {
        prepare: { id: "prepare", state: "passed", attempts: 1, selected: true, durationMs: 300 },
        "unit-tests": { id: "unit-tests", state: "failed", attempts: 2, selected: true, durationMs: 200 },
      },
      breakers: {},
    };
    fs.writeFileSync(paths.state, JSON.stringify(state));
    try {
      const ctx = context({ tty: false, columns: 80 });
      expect(await graphCommand({ wsId: "ws-deploy-pipeline", format: "ascii" }, ctx)).toBe(0);
      expect(ctx.written()).toMatch(/^ {2}✔ prepare \*\s+300ms$/m);
      // 200 ms of unit-tests is less than the estimate (1 s) of the steps that did not run yet.
      expect(ctx.written()).toMatch(/^ {2}✖ unit-tests\s+200ms\s+← prepare$/m);
      const json = context({ tty: false });
      await graphCommand({ wsId: "ws-deploy-pipeline", format: "json" }, json);
      const doc = JSON.parse(json.written());
      expect(doc.lastRun.runId).toBe("run-x");
      expect(doc.nodes[1].state).toBe("failed");
    } finally {
      fs.rmSync(paths.root, { recursive: true, force: true });
    }
  });

  it("draws the critical path of a run from what actually ran, not through blocked or skipped steps", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-graph-cp-"));
    try {
      // History says c is slow, but in this run c failed after 9 ms while b took 1 s; d was blocked.
      const ws = diamond();
      const paths = wsPaths(dir, ws.id);
      fs.mkdirSync(paths.root, { recursive: true });
      fs.writeFileSync(paths.history, JSON.stringify({ steps: { a: [100], b: [100], c: [5000], d: [100] } }));
      const state = makeState(ws.id, { a: "passed", b: "passed", c: "failed", d: "blocked" }, { a: 100, b: 1000, c: 9 });
      state.steps.d!.attempts = 0;
      expect(workstreamView(ws, dir).criticalPath).toEqual(["a", "c", "d"]);
      expect(workstreamView(ws, dir, state).criticalPath).toEqual(["a", "b"]);
      const skipped = makeState(ws.id, { a: "passed", b: "skipped", c: "passed", d: "passed" }, { a: 100, c: 10, d: 100 });
      skipped.steps.b!.attempts = 0;
      expect(workstreamView(ws, dir, skipped).criticalPath).toEqual(["a", "c", "d"]);
      expect(drawnWeights(ws, [1, 1, 1, 1], skipped)).toEqual([100, 0, 10, 100]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("weighs the critical path by past durations", async () => {
    const paths = wsPaths(root, "ws-deploy-pipeline");
    fs.mkdirSync(paths.root, { recursive: true });
    fs.writeFileSync(paths.history, JSON.stringify({
        steps: { prepare: [100], "unit-tests": [9000], "integration-tests": [100], "deploy-docs": [9000], "smoke-tests": [100] },
      }));
    try {
      const ctx = context({ tty: false });
      await graphCommand({ wsId: "ws-deploy-pipeline", format: "json" }, ctx);
      expect(JSON.parse(ctx.written()).criticalPath.slice(0, 3)).toEqual(["prepare", "unit-tests", "deploy-docs"]);
    } finally {
      fs.rmSync(paths.root, { recursive: true, force: true });
    }
  });
});
