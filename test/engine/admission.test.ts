import { describe, expect, it } from "vitest";
import { Admission } from "../../src/engine/admission.js";
import { buildGraph, type Board } from "../../src/engine/any-groups.js";
import { Readiness } from "../../src/engine/readiness.js";
import { VirtualClock } from "./virtual-clock.js";

/** Four independent ready steps, admitted with a worker limit the test changes between rounds. */
function setup(limit: { workers: number }) {
  const graph = buildGraph({ ids: ["a", "b", "c", "d"], deps: [[], [], [], []], selected: new Set([0, 1, 2, 3]) });
  const board: Board = { finals: new Map(), running: new Map() };
  const readiness = new Readiness(graph, board, { runIf: () => "success", named: false, settled: () => {}, evaluateGroup: () => {} });
  readiness.evaluateAll();
  const admission = new Admission(graph, board, readiness, { clock: new VirtualClock(), workers: () => limit.workers, rateLimitMs: 0 });
  const started: number[] = [];
  const start = (node: number) => {
    readiness.take(node);
    board.running.set(node, new AbortController());
    started.push(node);
  };
  return { admission, board, start, started };
}

describe("admission", () => {
  it("reads the worker limit at every admission, so a limit that changes mid-run takes effect", () => {
    const limit = { workers: 1 };
    const { admission, start, started, board } = setup(limit);
    expect(admission.admit(start)).toBe(Infinity);
    expect(started).toEqual([0]);
    limit.workers = 3;
    admission.admit(start);
    expect(started).toEqual([0, 1, 2]);
    // Lowered below what runs: nothing more starts until enough have ended.
    limit.workers = 2;
    board.running.delete(0);
    admission.admit(start);
    expect(started).toEqual([0, 1, 2]);
    board.running.delete(1);
    admission.admit(start);
    expect(started).toEqual([0, 1, 2, 3]);
  });
});
