// Checks that every module parses as an ES module, in one process (a `node --check` per file costs
// a Node start each). This package has no types to check; in a TypeScript project this step is
// `tsc --noEmit`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { root, sourceFiles, summary } from "./project.mjs";

if (vm.SourceTextModule === undefined) {
  // The parser of ES modules is only exposed behind this flag: run this script again with it.
  const r = spawnSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const files = sourceFiles();
const errors = [];
for (const file of files) {
  try {
    // Compiles without linking or running anything.
    new vm.SourceTextModule(fs.readFileSync(path.join(root, file), "utf8"), { identifier: file });
  } catch (error) {
    // The parser's message has no line: `node --check` of that one file points at it.
    const located = spawnSync(process.execPath, ["--check", file], { cwd: root, encoding: "utf8" }).stderr.split("\n").slice(0, 4).join("\n");
    errors.push(located.trim() || `${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
for (const error of errors) process.stderr.write(`${error}\n`);
if (errors.length > 0) {
  process.stderr.write(`typecheck: ${errors.length} of ${files.length} files do not parse\n`);
  process.exitCode = 1;
} else {
  summary(`${files.length} files parse`);
}
