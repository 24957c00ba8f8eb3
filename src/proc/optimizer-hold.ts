import fs from "node:fs";
import v8 from "node:v8";

/**
 * V8's optimizing compiler (TurboFan) held back while a run starts its steps, until the run has
 * work hot enough to pay for it. Measured on a 1000-step run (bench/NOTES.md, issue 32 point 4):
 * V8 optimized ~160 functions of the per-step path (the attempt, runProcess, launch...), its
 * background threads compiled for 1-1.7 s of CPU, and the compiler's pages and zones raised the
 * peak RSS by ~10 MB (75 → 65 MB without it), while ws's own CPU over the run was no lower with the
 * optimized code, nor at 3000 steps: code that runs once a step is not hot enough to repay it.
 * What is hot is a step's output (the log, the line splitter, the agents' parsers: 3.7× the CPU of
 * a 200 MB flood without TurboFan), so it comes back, for good, once the run's steps have printed
 * OUTPUT_BYTES, or once ATTEMPTS processes have started (a very long run), or when the run ends.
 *
 * V8 reads `--turbofan` each time it considers a function for optimization, so the flag can be
 * flipped at run time (Node's `v8.setFlagsFromString`, as heap-trim.ts does for `--expose-gc`).
 * Left alone when the process was started with a say of its own about V8's tiers. Node 22+ also
 * has Maglev, a cheaper tier the hold leaves on (measured on Node 20, which has none).
 *
 * The run command holds it from before the workstream is loaded when the file is not big
 * (holdOptimizerFor): loading and checking 1000 or 10 000 steps cost less CPU without TurboFan
 * too, and what it compiled then was half the RSS it added; 50 000 steps (4.4 MB) parsed ~20 %
 * slower, so a big file is loaded with it and held only from the run's start.
 */
const OUTPUT_BYTES = 1024 * 1024;
const ATTEMPTS = 5000;

/** Past this a workstream file is loaded with TurboFan (~20 000 steps). */
const BIG_FILE = 2 * 1024 * 1024;

/** Runs holding it now (the library may run several at once). */
let holders = 0;
/** Held by the run command before the load; the run's own hold takes it over. */
let early = false;
/** Once hot work was seen, TurboFan stays on for the rest of the process. */
let released = false;
let output = 0;
let attempts = 0;

const OWN_SAY = /^--(no-)?(opt|turbofan|maglev|sparkplug|jitless|always-turbofan|always-opt)\b/;

function allowed(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return !flags.some((flag) => OWN_SAY.test(flag));
}

function setOptimizer(on: boolean): void {
  try {
    v8.setFlagsFromString(on ? "--turbofan" : "--no-turbofan");
  } catch {
    // An engine without the flag: nothing held.
  }
}

/** Called when a run starts its steps; returns the release for its end (idempotent). */
export function holdOptimizer(): () => void {
  if (released || !allowed()) return () => {};
  if (early) early = false; // taken over: its count becomes this run's
  else {
    if (holders === 0) setOptimizer(false);
    holders += 1;
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    holders -= 1;
    if (holders === 0 && !released) setOptimizer(true);
  };
}

/**
 * Before the run command loads `file`: held from here when the file is not big. Released by the
 * run that follows (holdOptimizer takes it over); if the load fails the process is ending anyway.
 */
export function holdOptimizerFor(file: string): void {
  if (early || released || !allowed()) return;
  if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) > BIG_FILE) return;
  if (holders === 0) setOptimizer(false);
  holders += 1;
  early = true;
}

function releaseForGood(): void {
  released = true;
  if (holders > 0) setOptimizer(true);
}

/** A step's output went through ws (bytes read from its pipes). */
export function countOutput(bytes: number): void {
  if (released) return;
  output += bytes;
  if (output >= OUTPUT_BYTES) releaseForGood();
}

/** A process of an attempt started. */
export function countAttempt(): void {
  if (released) return;
  attempts += 1;
  if (attempts >= ATTEMPTS) releaseForGood();
}

/** Whether TurboFan is held now (tests). */
export function optimizerHeld(): boolean {
  return holders > 0 && !released;
}
