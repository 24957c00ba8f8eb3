// 6. Start-up: `ws --help`, `ws status` and a one-step no-op `ws run` (no git) against `node -e 0`,
// interleaved, medians.
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, removeDir, repoRoot, runTimed, table, tempDir, wsBin } from "./lib.mjs";

const REPEAT = 21;
const GOAL = 1.7;
/** Issue 13: a whole `ws run` of one no-op step, outside git, within 2× a bare Node start. */
const RUN_GOAL = 2;

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
      ["`ws --help`", [wsBin, "--help"]],
      ["`ws status`", [wsBin, "status"]],
      ["`ws status --ws-id ws-dependency-diamond`", [wsBin, "status", "--ws-id", "ws-dependency-diamond"]],
      ["`ws run` of one no-op step (no git)", [wsBin, "run", "--ws-id", "ws-bench-one"]],
    ];
    const goalOf = (k) => (k === contenders.length - 1 ? RUN_GOAL : GOAL);
    const times = contenders.map(() => []);
    for (let r = 0; r < REPEAT; r++) {
      for (const [k, [, args]] of contenders.entries()) {
        const run = await runTimed(process.execPath, args, { cwd: dir });
        if (run.code !== 0) throw new Error(`node ${args.join(" ")} exited ${run.code}`);
        times[k].push(run.wallMs);
      }
    }
    const base = median(times[0]);
    const rows = contenders.map(([label], k) => {
      const m = median(times[k]);
      return [label, fmtMs(m), `${fmtMs(Math.min(...times[k]))}`, k === 0 ? "1.00×" : fmtX(m / base), k === 0 ? "" : `${goal(m / base <= goalOf(k))} (≤ ${goalOf(k)}×)`];
    });
    const ratios = times.map((t) => median(t) / base);
    const worst = Math.max(...ratios.slice(1, -1));
    const run = ratios.at(-1);
    log(`  startup: node -e 0 ${fmtMs(base)}, worst ws ratio ${fmtX(worst)}, one-step run ${fmtX(run)}`);
    const md = [
      "## 6. Start-up",
      "",
      `Median (and best) of ${REPEAT}, interleaved; whole process, spawn to exit. Goal ≤ ${GOAL}× \`node -e 0\` for the commands that only read, ≤ ${RUN_GOAL}× for the one-step run (in a folder outside git: no worktree).`,
      "",
      table(["command", "median", "best", "vs node -e 0", "goal"], rows),
    ];
    return { markdown: md.join("\n"), summary: { name: "startup", ratio: worst, runRatio: run, goalMet: worst <= GOAL && run <= RUN_GOAL } };
  } finally {
    removeDir(dir);
  }
}
