#!/usr/bin/env node
// Thin launcher: the CLI is one bundle in dist/bundle (built by `npm install` through `prepare`,
// scripts/bundle.mjs): a few files to load instead of ~170 modules.
import module from "node:module";

// Node 22.1+ keeps the compiled code of ws's modules on disk for the next start: ~25 ms of a
// ~300 ms one-step run on Node 24 (bench/NOTES.md). Node 20 has no such cache.
module.enableCompileCache?.();
const { main } = await import("../dist/bundle/main.js");
main(process.argv.slice(2));
