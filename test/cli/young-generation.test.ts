import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The young generation's size after a churn of short-lived objects (a tenth kept a while, as a
 * run's events and attempts are), in a fresh node process per case: V8 flags are process-wide.
 * Sizes, not times: V8 either doubles the semi-spaces (32 MB of new space) or does not (2 MB).
 */
const MODULE = fileURLToPath(new URL("../../dist/cli/young-generation.js", import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-young-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function newSpaceMb(setup: string): number {
  const script = `
    import v8 from "node:v8";
    import * as young from ${JSON.stringify(MODULE)};
    ${setup}
    const kept = [];
    for (let i = 0; i < 2_000_000; i++) {
      const o = { i, s: "x" + i };
      if (i % 10 === 0) kept.push(o);
      if (kept.length > 20_000) kept.length = 0;
    }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    process.stdout.write(String(space.space_size / 1048576));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout);
}

describe("the young generation of a ws process", () => {
  it("is held at its first size once a run is under way", () => {
    expect(newSpaceMb("")).toBeGreaterThan(8);
    expect(newSpaceMb("young.steadyYoungGeneration();")).toBeLessThanOrEqual(4);
  });

  it("may grow while a big workstream file is loaded, not a small one", () => {
    const small = path.join(dir, "small.json");
    const big = path.join(dir, "big.json");
    fs.writeFileSync(small, "{}");
    fs.writeFileSync(big, "x".repeat(2 * 1024 * 1024));
    expect(newSpaceMb(`young.youngGenerationFor(${JSON.stringify(small)});`)).toBeLessThanOrEqual(4);
    expect(newSpaceMb(`young.youngGenerationFor(${JSON.stringify(big)});`)).toBeGreaterThan(8);
  });
});
