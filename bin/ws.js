#!/usr/bin/env node
// Thin launcher: everything lives in dist/cli (built by `npm install` through `prepare`).
import { main } from "../dist/cli/main.js";

main(process.argv.slice(2));
