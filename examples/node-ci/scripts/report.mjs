// The report that runs whatever happened (run_if "always"): one line per check, from the summaries
// the passed checks handed on. A failed, blocked or skipped check hands on nothing.
// Usage: node scripts/report.mjs NAME=SUMMARY...
import { summary } from "./project.mjs";

const lines = [];
let passed = 0;
for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf("=");
  const name = arg.slice(0, at);
  const text = arg.slice(at + 1);
  if (text !== "") passed += 1;
  lines.push(`  ${name.padEnd(10)} ${text !== "" ? `ok   ${text}` : `FAIL no result (see: ws logs ws-node-ci --step ${name})`}`);
}
process.stdout.write(`node-ci report\n${lines.join("\n")}\n`);
summary(`${passed} of ${lines.length} checks passed`);
