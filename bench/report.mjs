// 10. The report of a 1000-step run: `ws report` (HTML) and `ws report --format trace`, timed against
// `ws status` of the same run (both read the same event log), and the files' sizes. The run is in a
// git repository and every step commits a file of its own, so every step section carries a diff:
// the heaviest report a run of that size makes.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, median, randomDag, removeDir, runTimed, table, tempDir, workstream, writeWorkstream, wsBin } from "./lib.mjs";

const STEPS = 1000;
const REPEAT = 7;
const GOAL_MS = 1000;
const GOAL_BYTES = 2 * 1024 * 1024;

export async function report({ log }) {
  const dir = tempDir("report");
  const trees = tempDir("report-trees");
  try {
    const deps = randomDag(STEPS, { seed: 7, maxDeps: 2 });
    const steps = deps.map((ds, i) => ({ id: `s${i}`, run: `echo ${i} > f${i}.txt`, file_scope: [`f${i}.txt`], depends_on: ds.map((d) => `s${d}`) }));
    writeWorkstream(dir, workstream("ws-report-bench", { isolation: "worktree", max_workers: 2 }, steps));
    const git = (...args) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
    git("init", "-q");
    git("-c", "user.name=b", "-c", "user.email=b@b", "add", "-A");
    git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "bench");
    const env = { WS_WORKTREES_DIR: trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
    log(`  report: running ${STEPS} steps in a git repository (one commit each)`);
    const run = await runTimed(process.execPath, [wsBin, "run", "ws-report-bench"], { cwd: dir, env });
    if (run.code !== 0) throw new Error(`ws run ws-report-bench exited ${run.code}`);
    const html = path.join(dir, "report.html");
    const trace = path.join(dir, "trace.json");
    const contenders = [
      ["`ws status ws-report-bench`", [wsBin, "status", "ws-report-bench"]],
      ["`ws report` (HTML)", [wsBin, "report", "ws-report-bench", "-o", html]],
      ["`ws report --format trace`", [wsBin, "report", "ws-report-bench", "--format", "trace", "-o", trace]],
    ];
    const times = contenders.map(() => []);
    for (let r = 0; r < REPEAT; r++) {
      for (const [k, [, args]] of contenders.entries()) {
        const t = await runTimed(process.execPath, args, { cwd: dir, env });
        if (t.code !== 0) throw new Error(`ws ${args.slice(1).join(" ")} exited ${t.code}`);
        times[k].push(t.wallMs);
      }
    }
    const base = median(times[0]);
    const sizes = [undefined, fs.statSync(html).size, fs.statSync(trace).size];
    const htmlMs = median(times[1]);
    const met = htmlMs < GOAL_MS && sizes[1] < GOAL_BYTES;
    const rows = contenders.map(([label], k) => [label, fmtMs(median(times[k])), fmtMs(Math.min(...times[k])), k === 0 ? "1.00×" : fmtX(median(times[k]) / base), sizes[k] === undefined ? "" : `${(sizes[k] / 1024).toFixed(0)} KiB`]);
    log(`  report: html ${fmtMs(htmlMs)} (${(sizes[1] / 1024).toFixed(0)} KiB), status ${fmtMs(base)}`);
    const md = [
      "## 10. Report of a 1000-step run",
      "",
      `${STEPS} shell steps (a random DAG, 2 workers) in a git repository, each committing one file, so every step's section holds its diff. Median (and best) of ${REPEAT} interleaved runs of each command over the finished run, whole process. Goal: the HTML report written in < ${GOAL_MS} ms and < ${GOAL_BYTES / 1024 / 1024} MB.`,
      "",
      table(["command", "median", "best", "vs ws status", "file"], rows),
    ];
    return { markdown: md.join("\n"), summary: { name: "report", htmlMs, htmlBytes: sizes[1], traceBytes: sizes[2], ratio: htmlMs / base, goalMet: met } };
  } finally {
    removeDir(dir);
    removeDir(trees);
  }
}
