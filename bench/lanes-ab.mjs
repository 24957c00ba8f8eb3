// Micro A/B of a lane per step (issue 31): two builds of ws (WS_BENCH_A, WS_BENCH_B: folders holding
// dist/, e.g. copies of an old and a new build), each taking a lane at alternating bases, checking
// its git dir where the build has that (checkGitDir), giving it back; interleaved in BLOCKS blocks.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
const N = Number(process.env.N ?? 20), BLOCKS = Number(process.env.BLOCKS ?? 10);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lanes-ab-"));
const git = (...a) => execFileSync("git", a, { cwd: dir, encoding: "utf8" }).trim();
git("init", "-q"); for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(dir, `f${i}.txt`), `${i}\n`);
git("add", "-A"); git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "x");
// Two bases a file apart: each lane taken is checked out anew, as a chain's next step is.
const base = git("rev-parse", "HEAD");
fs.writeFileSync(path.join(dir, "f0.txt"), "changed\n");
git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qam", "y");
const bases = [base, git("rev-parse", "HEAD")];
const builds = {};
const made = [dir];
const dirs = { before: process.env.WS_BENCH_A, after: process.env.WS_BENCH_B };
if (!dirs.before || !dirs.after) throw new Error("set WS_BENCH_A and WS_BENCH_B to two builds (folders with dist/)");
for (const k of ["before", "after"]) {
  const { Lanes } = await import(path.join(path.resolve(dirs[k]), "dist", "git", "lanes.js"));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `lanes-ab-${k}-`));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), `lanes-ab-state-${k}-`));
  made.push(home, state);
  builds[k] = new Lanes({ gitRoot: fs.realpathSync(dir), pins: "refs/ws-pins/ab", projectDir: fs.realpathSync(dir), home, stateDir: state, env: process.env });
  for (const lane of [await builds[k].acquire(base), await builds[k].acquire(base)]) await builds[k].release(lane);
}
const times = { before: [], after: [] };
for (let b = 0; b < BLOCKS; b++) for (const k of b % 2 ? ["after", "before"] : ["before", "after"]) {
  const pool = builds[k];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const lane = await pool.acquire(bases[i % 2]);
    if (pool.checkGitDir) await pool.checkGitDir(lane, path.join(os.tmpdir(), "lanes-ab-keep"), async () => []);
    await pool.release(lane);
  }
  times[k].push(Number(process.hrtime.bigint() - t0) / 1e6 / N);
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const k of Object.keys(times)) console.log(k, med(times[k]).toFixed(1), "ms a lane;", times[k].map((t) => t.toFixed(1)).join(" "));
console.log("paired after-before:", med(times.after.map((t, i) => t - times.before[i])).toFixed(1), "ms; load", fs.readFileSync("/proc/loadavg", "utf8").trim());
for (const d of [...made, path.join(os.tmpdir(), "lanes-ab-keep")]) fs.rmSync(d, { recursive: true, force: true });
