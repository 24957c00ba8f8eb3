import { describe, expect, it } from "vitest";
import { rollbackOrder } from "../../src/engine/compensation.js";
import type { RunState, StepRecord } from "../../src/store/run-state.js";
import { makeWorkstream } from "../export/make-workstream.js";

const comp = { tool: "shell", run: "undo", tasks: [], timeout: 10 };

function state(records: Array<Partial<StepRecord> & { id: string }>): RunState {
  return {
    version: 1, runId: "r", wsId: "w", file: "/w.json", hash: "0", pid: 1, startedAt: "", status: "failed", workdir: "/", order: records.map((r) => r.id), breakers: {},
    steps: Object.fromEntries(records.map((r) => [r.id, { state: "passed", attempts: 1, selected: true, ...r } as StepRecord])),
  };
}

describe("rollbackOrder", () => {
  it("passed steps with a compensation, last finished first; finished compensations are not repeated, an interrupted one is", () => {
    const ws = makeWorkstream("w", ["a", "b", "c", "d", "e", "f"].map((id) => ({ id, compensate: id === "d" ? undefined : comp })));
    const s = state([
      { id: "a", endedAt: "2026-01-01T00:00:01Z" },
      { id: "b", endedAt: "2026-01-01T00:00:03Z", compensation: { state: "running" } },
      { id: "c", endedAt: "2026-01-01T00:00:02Z" },
      { id: "d", endedAt: "2026-01-01T00:00:04Z" },
      { id: "e", endedAt: "2026-01-01T00:00:05Z", compensation: { state: "passed" } },
      { id: "f", state: "failed", endedAt: "2026-01-01T00:00:06Z" },
    ]);
    expect(rollbackOrder(ws, s)).toEqual(["b", "c", "a"]);
  });
});
