import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { checkGraph } from "../../src/graph/check.js";
import { makeWs, type StepInput } from "./make-ws.js";

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 10 000 steps, a random DAG of 2-3 deps each (to earlier steps), disjoint realistic scopes (a
 * module glob, or a few literal files), plus planted problems: unordered pairs with overlapping
 * scopes, an ordered pair with overlapping scopes (fine), a cycle and an unknown id.
 */
function bigWorkstream(): StepInput[] {
  const next = random(42);
  const steps: StepInput[] = [];
  for (let i = 0; i < 10_000; i++) {
    const dependsOn = new Set<string>();
    const count = i === 0 ? 0 : Math.min(i, 2 + Math.floor(next() * 2));
    while (dependsOn.size < count) dependsOn.add(`step-${Math.floor(next() * i)}`);
    const fileScope =
      i % 3 === 0
        ? [`src/mod${i}/**`]
        : i % 3 === 1
          ? [`src/mod${i}/index.ts`, `src/mod${i}/util.ts`, `docs/mod${i}.md`]
          : [`packages/p${i}/src/*.ts`, `packages/p${i}/README.md`];
    steps.push({ id: `step-${i}`, tool: "claude", dependsOn: [...dependsOn], fileScope });
  }
  for (let k = 0; k < 5; k++) {
    steps.push({ id: `planted-${k}-a`, tool: "claude", fileScope: [`shared/k${k}/**`] });
    steps.push({ id: `planted-${k}-b`, tool: "claude", fileScope: [`docs/k${k}.md`, `shared/k${k}/file.ts`] });
  }
  steps.push({ id: "ordered-a", fileScope: ["ordered/**"], dependsOn: ["step-9999"] });
  steps.push({ id: "ordered-b", fileScope: ["ordered/x.ts"], dependsOn: ["ordered-a", "step-5"] });
  steps.push({ id: "cycle-a", dependsOn: ["cycle-b", "step-1"] });
  steps.push({ id: "cycle-b", dependsOn: ["cycle-a"] });
  steps.push({ id: "typo", dependsOn: ["step-12x"] });
  return steps;
}

describe("checkGraph at scale", () => {
  it("validates a 10 000-step workstream and finds exactly the planted problems", () => {
    const ws = makeWs(bigWorkstream());
    const started = performance.now();
    const diagnostics = checkGraph(ws, undefined);
    const elapsed = performance.now() - started;
    console.log(`checkGraph on ${ws.steps.length} steps: ${elapsed.toFixed(0)} ms`);
    expect(diagnostics.map((d) => `${d.code}: ${d.message}`)).toEqual([
      'unknown-dependency: step "typo" depends on unknown step "step-12x"',
      "cycle: cycle: cycle-a → cycle-b → cycle-a",
      ...[0, 1, 2, 3, 4].map(
        (k) =>
          `file-conflict: steps "planted-${k}-a" and "planted-${k}-b" may run at the same time and their file scopes overlap: "planted-${k}-a" claims "shared/k${k}/**", "planted-${k}-b" claims "shared/k${k}/file.ts"`,
      ),
    ]);
  });
});
