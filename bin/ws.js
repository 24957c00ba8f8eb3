#!/usr/bin/env node
"use strict";
// Thin launcher: the CLI is one bundle in dist/bundle (built by `npm install` through `prepare`,
// scripts/bundle.mjs): a few files to load instead of ~170 modules. CommonJS (bin/package.json),
// like the bundle: Node 20 then starts no ES module loader (bench/NOTES.md, issue 32, start-up).
const { enableCompileCache } = require("node:module");

// Node 22.1+ keeps the compiled code of ws's modules on disk for the next start: ~25 ms of a
// ~300 ms one-step run on Node 24 (bench/NOTES.md). Node 20 has no such cache.
enableCompileCache?.();

// A run: V8 optimizes a function with TurboFan after 3 rounds of its interrupt budget, and a
// one-step run made one function that hot while loading (Node's path normalization); that one
// compile paged in ~4 MB of TurboFan's own code (peak RSS 57.7 -> 53.8 MB without it; bench/NOTES.md,
// issue 32, memory). With twice the rounds a short run stays interpreted and a long one is
// optimized a little later. Set before the bundle loads (later, the function is already hot);
// only for a run, which loads node:v8 anyway (its young generation), while --help and status
// compile nothing with TurboFan and would only pay for loading it.
// V8 11 (Node 20) only: later V8s count invocations instead and print an error for this flag.
const run = process.argv.includes("run");
const v8 = run ? require("node:v8") : undefined;
if (run && Number.parseInt(process.versions.v8, 10) <= 11) v8.setFlagsFromString("--ticks-before-optimization=6");

// Node 20 (no compile cache): V8's code of the bundle's largest files from disk (bin/code-cache.js).
if (!enableCompileCache) require("./code-cache.js").install(new Set(["main.cjs", "run.cjs", "status.cjs", "schema-validators.cjs"]), run ? "run" : "cli", v8);

require("../dist/bundle/main.cjs").main(process.argv.slice(2));
