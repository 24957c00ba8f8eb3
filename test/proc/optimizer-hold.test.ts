import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Whether V8 optimizes a hot function, in a fresh node process per case (V8 flags are
 * process-wide): TurboFan is off while a run holds it, and back once hot output (or the run's
 * end) releases it. Optimization status bits, not times.
 */
const MODULE = fileURLToPath(new URL("../../dist/proc/optimizer-hold.js", import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-optimizer-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `setup`, then a hot loop; whether the loop's function ended optimized. */
function optimizedAfter(setup: string, flags: string[] = []): boolean {
  const script = `
    import * as hold from ${JSON.stringify(MODULE)};
    ${setup}
    function hot(n) { let s = 0; for (let i = 0; i < 50; i++) s += (n * i) % 7; return s; }
    let t = 0;
    for (let i = 0; i < 300000; i++) t += hot(i);
    // V8's status bit 6: TurboFanned. (Bit 4, "optimized", is Maglev's code too: Node 22+ runs
    // Maglev, which the hold leaves on, and is cheap.)
    process.stdout.write(String((%GetOptimizationStatus(hot) & 64) !== 0));`;
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--no-concurrent-recompilation", ...flags, "--input-type=module", "-e", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout === "true";
}

describe("TurboFan held while a run starts its steps", () => {
  it("optimizes a hot function when nothing holds it, and not while a run does", () => {
    expect(optimizedAfter("")).toBe(true);
    expect(optimizedAfter("hold.holdOptimizer(); if (!hold.optimizerHeld()) throw new Error('not held');")).toBe(false);
  });

  it("comes back when the run ends, or for good once its steps printed a MiB", () => {
    expect(optimizedAfter("const release = hold.holdOptimizer(); release();")).toBe(true);
    expect(optimizedAfter("hold.holdOptimizer(); hold.countOutput(600 * 1024); hold.countOutput(600 * 1024); if (hold.optimizerHeld()) throw new Error('held');")).toBe(true);
    expect(optimizedAfter("hold.holdOptimizer(); hold.countOutput(1000);")).toBe(false);
  });

  it("stays held while another run holds it", () => {
    expect(optimizedAfter("const a = hold.holdOptimizer(); hold.holdOptimizer(); a(); a();")).toBe(false);
  });

  it("is held by the run command before a small file loads, and handed to the run", () => {
    const small = path.join(dir, "small.json");
    fs.writeFileSync(small, "{}");
    const big = path.join(dir, "big.json");
    fs.writeFileSync(big, " ".repeat(3 * 1024 * 1024));
    expect(optimizedAfter(`hold.holdOptimizerFor(${JSON.stringify(small)});`)).toBe(false);
    expect(optimizedAfter(`hold.holdOptimizerFor(${JSON.stringify(big)});`)).toBe(true);
    expect(optimizedAfter(`hold.holdOptimizerFor(${JSON.stringify(small)}); hold.holdOptimizer()();`)).toBe(true);
  });

  it("leaves V8 alone when node was started with a say about its tiers", () => {
    expect(optimizedAfter("hold.holdOptimizer();", ["--turbofan"])).toBe(true);
  });
});
