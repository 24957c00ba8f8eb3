// The cost of finding an attempt's escaped processes through /proc/<pid>/environ, with the
// machine's own processes plus N extra idle ones, half of them carrying a cookie. "full": every
// process read (reaping a crashed run, or after a process that ran 10 s or more); "window": what
// runProcess reads when a process ends, only pids handed out since its leader (here: the N
// extras, the worst case; a step that left nothing alive reads none). Linux only.
// Usage: node bench/proc-scan.mjs [extra counts, default 0,200,1000]   (after `npm run build`)
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { median, repoRoot } from "./lib.mjs";

if (!fs.existsSync("/proc/self/environ")) {
  console.log("proc-scan: no /proc here; nothing to measure");
  process.exit(0);
}
const { findMarked, MARK_VARIABLE } = await import(pathToFileURL(path.join(repoRoot, "dist", "proc", "attempt-mark.js")).href);

const counts = (process.argv[2] ?? "0,200,1000").split(",").map(Number);
const rows = [];
for (const extra of counts) {
  const before = Number(fs.readFileSync("/proc/sys/kernel/ns_last_pid", "utf8"));
  const children = Array.from({ length: extra }, (_, i) =>
    spawn("sleep", ["600"], { stdio: "ignore", env: i % 2 === 0 ? { ...process.env, [MARK_VARIABLE]: `bench:s:${i}` } : process.env }),
  );
  await new Promise((r) => setTimeout(r, 200 + extra)); // let them exec
  const processes = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).length;
  const time = (after) => {
    const times = [];
    let found = 0;
    for (let round = 0; round < 20; round++) {
      const started = performance.now();
      found = findMarked((mark) => mark.startsWith("bench:"), after).length;
      times.push(performance.now() - started);
    }
    return { found, ms: median(times).toFixed(2) };
  };
  const full = time(undefined);
  const window = time(before);
  const empty = time(Number(fs.readFileSync("/proc/sys/kernel/ns_last_pid", "utf8")));
  for (const child of children) child.kill("SIGKILL");
  rows.push({ processes, extra, full, window, empty });
}
console.log("| processes | marked | full scan (ms) | window of N live extras (ms) | empty window (ms) |");
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.processes} | ${r.full.found} | ${r.full.ms} | ${r.window.ms} | ${r.empty.ms} |`);
console.log("(medians of 20 scans each)");
