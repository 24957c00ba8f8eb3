// 6. Start-up: `ws --help`, `ws status` and a one-step no-op `ws run` (no git) against `node -e 0`,
// interleaved, medians; and each one's peak RSS, the weight of what it loads.
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, removeDir, repoRoot, runTimed, table, tempDir, wsBin } from "./lib.mjs";

const REPEAT = 21;
/** Issue 32's goals: `ws --help` ≤ 1.3×, `ws status` with and without an id ≤ 1.5×, a whole
 *  `ws run` of one no-op step (outside git) ≤ 2× a bare Node start. */
const GOALS = { help: 1.3, status: 1.5, run: 2 };

export async function startup({ log }) {
  const dir = tempDir("startup");
  try {
    // `ws status` over the bundled examples, one of them with a finished run to read.
    fs.cpSync(path.join(repoRoot, "workstreams"), path.join(dir, "workstreams"), { recursive: true });
    const warm = await runTimed(process.execPath, [wsBin, "run", "--ws-id", "ws-dependency-diamond"], { cwd: dir });
    if (warm.code !== 0) throw new Error(`ws run ws-dependency-diamond exited ${warm.code}`);
    fs.writeFileSync(path.join(dir, "workstreams", "ws-bench-one.json"), JSON.stringify({ id: "ws-bench-one", steps: [{ id: "a", run: "true" }] }));
    const contenders = [
      ["`node -e 0`", ["-e", "0"]],
      ["`ws --help`", [wsBin, "--help"], GOALS.help],
      ["`ws status`", [wsBin, "status"], GOALS.status],
      ["`ws status --ws-id ws-dependency-diamond`", [wsBin, "status", "--ws-id", "ws-dependency-diamond"], GOALS.status],
      ["`ws run` of one no-op step (no git)", [wsBin, "run", "--ws-id", "ws-bench-one"], GOALS.run],
    ];
    const times = contenders.map(() => []);
    const rss = contenders.map(() => []);
    for (let r = 0; r < REPEAT; r++) {
      for (const [k, [, args]] of contenders.entries()) {
        // A poll every 5 ms: VmHWM is a high-water mark, so one read late in the run is enough.
        const run = await runTimed(process.execPath, args, { cwd: dir, pollRss: true, pollMs: 5 });
        if (run.code !== 0) throw new Error(`node ${args.join(" ")} exited ${run.code}`);
        times[k].push(run.wallMs);
        if (run.peakRssMb > 0) rss[k].push(run.peakRssMb);
      }
    }
    const base = median(times[0]);
    const ratios = times.map((t) => median(t) / base);
    const met = contenders.map(([, , g], k) => g === undefined || ratios[k] <= g);
    const rows = contenders.map(([label, , g], k) => {
      const m = median(times[k]);
      const peak = rss[k].length > 0 ? `${Math.max(...rss[k]).toFixed(0)} MB` : "";
      return [label, fmtMs(m), `${fmtMs(Math.min(...times[k]))}`, k === 0 ? "1.00×" : fmtX(ratios[k]), g === undefined ? "" : `${goal(met[k])} (≤ ${g}×)`, peak];
    });
    const [, help, status, statusId, run] = ratios;
    log(`  startup: node -e 0 ${fmtMs(base)}, --help ${fmtX(help)}, status ${fmtX(status)}, status <id> ${fmtX(statusId)}, one-step run ${fmtX(run)}`);
    const md = [
      "## 6. Start-up",
      "",
      `Median (and best) of ${REPEAT}, interleaved; whole process, spawn to exit. Goals (issue 32): \`ws --help\` ≤ ${GOALS.help}× \`node -e 0\`, \`ws status\` with or without an id ≤ ${GOALS.status}×, the one-step run (in a folder outside git: no worktree) ≤ ${GOALS.run}×. Peak RSS: the largest VmHWM seen over the runs (polled every 5 ms).`,
      "",
      table(["command", "median", "best", "vs node -e 0", "goal", "peak RSS"], rows),
    ];
    return { markdown: md.join("\n"), summary: { name: "startup", help, status: Math.max(status, statusId), runRatio: run, ratio: Math.max(help, status, statusId), goalMet: met.every(Boolean) } };
  } finally {
    removeDir(dir);
  }
}
