import fs from "node:fs";
import v8 from "node:v8";

/**
 * V8 doubles its young generation (up to 16 MB semi-spaces) whenever a scavenge finds it busy, and
 * a run's steady garbage (events, log chunks, attempts) kept it busy: that was a third of `ws run`'s
 * peak RSS (bench/memory.mjs: 1000 steps 105 → 76 MB, 500 MB of short lines 69 → 60 MB). Parsing a
 * big workstream is the opposite case: its objects all survive, and a young generation held at
 * 1 MB meant 308 scavenges instead of 23 (850 ms instead of 430 at 50 000 steps). V8 reads the
 * growth factor each time it would grow, so it can change while ws runs.
 */
function growthFactor(factor: 1 | 2): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

/** Past this a workstream file's parse needs room (~3 000 steps). */
const BIG_FILE = 1024 * 1024;

/** Before a run loads its workstream: held small unless the file is big. */
export function youngGenerationFor(file: string): void {
  growthFactor((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) > BIG_FILE ? 2 : 1);
}

/** Once the workstream is loaded: the run's own garbage is short-lived. */
export function steadyYoungGeneration(): void {
  growthFactor(1);
}
