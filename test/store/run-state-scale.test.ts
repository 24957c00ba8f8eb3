import { expect, it } from "vitest";
import { applyEvent } from "../../src/store/run-state.js";

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
  const state = applyEvent(undefined, {
    type: "run-start",
    at: new Date(0).toISOString(),
    runId: "r",
    wsId: "w",
    file: "w.json",
    hash: "h",
    steps,
    selected,
    maxWorkers: 2,
    pid: 1,
    resume: false,
    workdir: "/tmp",
  } as Parameters<typeof applyEvent>[1]);
  expect(Object.values(state!.steps).every((r) => r.selected)).toBe(true);
  expect(reads).toBeLessThanOrEqual(2 * n);
});
