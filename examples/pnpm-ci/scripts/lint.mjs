// The project's linter: a few rules, each reported as file:line; every module must parse.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const files = ["src", "test", "scripts"].flatMap((dir) => fs.readdirSync(path.join(root, dir)).map((f) => path.join(dir, f)));
const problems = [];
for (const file of files) {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  text.split("\n").forEach((line, i) => {
    if (/[ \t]+$/.test(line)) problems.push(`${file}:${i + 1}: trailing whitespace`);
    if (/(^|[^\w.])var\s/.test(line)) problems.push(`${file}:${i + 1}: use let or const, not var`);
  });
  execFileSync(process.execPath, ["--check", path.join(root, file)]);
}
for (const problem of problems) process.stderr.write(`${problem}\n`);
if (problems.length > 0) process.exitCode = 1;
else process.stdout.write(`lint: ${files.length} files, no problems\n`);
