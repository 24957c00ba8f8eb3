// The project's linter: a few rules that need no dependency, each reported as file:line.
import fs from "node:fs";
import path from "node:path";
import { root, sourceFiles, summary } from "./project.mjs";

const RULES = [
  { test: (line) => /[ \t]+$/.test(line), message: "trailing whitespace" },
  { test: (line) => /^\t/.test(line), message: "indent with spaces, not tabs" },
  { test: (line) => /(^|[^\w.])var\s/.test(line), message: "use let or const, not var" },
  { test: (line) => /^\s*debugger;?\s*$/.test(line), message: "a debugger statement" },
  // Library code returns values; printing is for scripts and tests.
  { test: (line, file) => file.startsWith(`src${path.sep}`) && /\bconsole\./.test(line), message: "console in library code" },
];

const problems = [];
const files = sourceFiles();
for (const file of files) {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  if (text.length > 0 && !text.endsWith("\n")) problems.push(`${file}: no newline at the end of the file`);
  text.split("\n").forEach((line, i) => {
    for (const rule of RULES) if (rule.test(line, file)) problems.push(`${file}:${i + 1}: ${rule.message}`);
  });
}
for (const problem of problems) process.stderr.write(`${problem}\n`);
if (problems.length > 0) {
  process.stderr.write(`lint: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
  process.exitCode = 1;
} else {
  summary(`${files.length} files, no problems`);
}
