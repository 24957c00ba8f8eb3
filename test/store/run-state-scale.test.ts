import { expect, it } from "vitest";
import { applyEvent, stepRecords } from "../../src/store/run-state.js";

function runStart(steps: string[], selected: string[]): Parameters<typeof applyEvent>[1] {
  return { type: "run-start", at: new Date(0).toISOString(), runId: "r", wsId: "w", file: "w.json", hash: "h", steps, selected, maxWorkers: 2, pid: 1, resume: false, workdir: "/tmp" };
}

it("folding a run-start reads the selection a bounded number of times per step (not once per step: quadratic at 50 000 steps)", () => {
  const n = 2000;
  const steps = Array.from({ length: n }, (_, i) => `s${i}`);
  let reads = 0;
  const selected = new Proxy([...steps], {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  const state = applyEvent(undefined, runStart(steps, selected));
  expect(Object.values(state!.steps).every((r) => r.selected)).toBe(true);
  expect(reads).toBeLessThanOrEqual(2 * n);
});

it("stepRecords gives what Object.values(state.steps) gives, in file order, also for ids that look like numbers", () => {
  // Object.values would list integer-like keys ("10", "2") first; the run's order is file order,
  // and a run-start builds `steps` from it, so the loop over `order` is the same set in file order.
  const steps = ["b", "10", "a", "2"];
  const state = applyEvent(undefined, runStart(steps, ["a"]))!;
  expect(stepRecords(state).map((r) => r.id)).toEqual(steps);
  expect(new Set(stepRecords(state))).toEqual(new Set(Object.values(state.steps)));
});
