import { describe, expect, it } from "vitest";
import { Admission } from "../../src/engine/admission.js";
import { buildGraph, type Board } from "../../src/engine/any-groups.js";
import { Readiness } from "../../src/engine/readiness.js";
import { VirtualClock } from "./virtual-clock.js";

/** Four independent ready steps, admitted with a worker limit the test changes between rounds. */
function setup(limit: { workers: number }, extra: { rateLimitMs?: number; gate?: (node: number) => { ok: true } | { ok: false; retryInMs: number }; onWait?: (node: number, wait: string) => void } = {}) {
  const graph = buildGraph({ ids: ["a", "b", "c", "d"], deps: [[], [], [], []], selected: new Set([0, 1, 2, 3]) });
  const board: Board = { finals: new Map(), running: new Map() };
  const readiness = new Readiness(graph, board, { runIf: () => "success", named: false, settled: () => {}, evaluateGroup: () => {} });
  readiness.evaluateAll();
  const admission = new Admission(graph, board, readiness, { clock: new VirtualClock(), workers: () => limit.workers, rateLimitMs: extra.rateLimitMs ?? 0, gate: extra.gate, onWait: extra.onWait });
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

  it("says once per cause what each ready step waits for: a worker, the rate limit, its gate", () => {
    const waits: string[] = [];
    const limit = { workers: 1 };
    const { admission, start, board } = setup(limit, { gate: (node) => (node === 3 ? { ok: false, retryInMs: 100 } : { ok: true }), onWait: (node, wait) => waits.push(`${node}:${wait}`) });
    admission.admit(start);
    expect(waits).toEqual(["1:worker", "2:worker", "3:worker"]);
    admission.admit(start);
    expect(waits).toHaveLength(3);
    limit.workers = 4;
    board.running.delete(0);
    admission.admit(start);
    expect(waits.slice(3)).toEqual(["3:gate"]);
  });

  it("reports the rate limit as the cause while it holds the queue", () => {
    const waits: string[] = [];
    const { admission, start } = setup({ workers: 4 }, { rateLimitMs: 1000, onWait: (node, wait) => waits.push(`${node}:${wait}`) });
    admission.admit(start);
    expect(waits).toEqual(["1:rate_limit", "2:rate_limit", "3:rate_limit"]);
  });
});
