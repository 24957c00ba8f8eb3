#!/usr/bin/env node
"use strict";
// Thin launcher: the CLI is one bundle in dist/bundle (built by `npm install` through `prepare`,
// scripts/bundle.mjs): a few files to load instead of ~170 modules. CommonJS (bin/package.json),
// like the bundle: Node 20 then starts no ES module loader (bench/NOTES.md, issue 32, start-up).
const { enableCompileCache } = require("node:module");

// Node 22.1+ keeps the compiled code of ws's modules on disk for the next start: ~25 ms of a
// ~300 ms one-step run on Node 24 (bench/NOTES.md). Node 20 has no such cache.
enableCompileCache?.();
require("../dist/bundle/main.cjs").main(process.argv.slice(2));
