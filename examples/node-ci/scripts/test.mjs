// Runs the tests with node's own runner. The files are listed here, not found by the runner: how
// `node --test` treats a folder argument differs between Node 20 and 22.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { root, summary } from "./project.mjs";

const files = fs.readdirSync(path.join(root, "test")).filter((f) => f.endsWith(".test.js")).sort().map((f) => path.join("test", f));
const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], { cwd: root, encoding: "utf8" });
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
// The TAP summary ends with "# tests 6", "# pass 6", "# fail 0".
const count = (name) => Number(r.stdout.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? 0);
if (r.status !== 0) {
  process.stderr.write(`test: ${count("fail")} of ${count("tests")} tests failed\n`);
  process.exitCode = 1;
} else {
  summary(`${count("pass")} tests passed in ${files.length} files`);
}
