// 3. Scheduling quality. (a) A weighted random DAG of sleeps, run once to record history, then
// measured: makespan against the lower bound max(critical path, work / workers). (b) A DAG built
// to punish FIFO: short independent steps listed first, a long chain listed last; critical-path
// order against `--order fifo` (the hidden switch), same history.
import { dagBounds, fmtMs, fmtX, goal, median, randomDag, readRun, removeDir, rng, table, tempDir, workstream, writeWorkstream, ws } from "./lib.mjs";

const REPEAT = 3;
const RANDOM_STEPS = 30;
const RANDOM_WORKERS = 3;
const GOAL_BOUND = 1.05;
const GOAL_FIFO = 0.15;

/** run-start → run-end from the event timestamps: the part the scheduler controls. */
function span(dir, id) {
  return readRun(dir, id).spanMs;
}

async function timedRuns(dir, id, extra, n) {
  const spans = [];
  for (let r = 0; r < n; r++) {
    await ws(["run", "--ws-id", id, ...extra], { cwd: dir });
    spans.push(span(dir, id));
  }
  return spans;
}

export async function scheduling({ log }) {
  const dir = tempDir("sched");
  try {
    // (a) Random weighted DAG; durations in 50 ms units so `sleep` takes them exactly.
    const deps = randomDag(RANDOM_STEPS, { seed: 7, maxDeps: 2, window: 8 });
    const random = rng(99);
    const weights = deps.map(() => 100 + 50 * Math.floor(random() * 15)); // 100..800 ms
    const name = (i) => `t${String(i).padStart(2, "0")}`;
    const idA = "ws-bench-weighted";
    writeWorkstream(dir, workstream(idA, { max_workers: RANDOM_WORKERS }, deps.map((ds, i) => ({ id: name(i), run: `sleep ${weights[i] / 1000}`, depends_on: ds.map(name) }))));
    const { criticalPath, work } = dagBounds(deps, weights);
    const bound = Math.max(criticalPath, work / RANDOM_WORKERS);
    await ws(["run", "--ws-id", idA], { cwd: dir }); // records history.json
    const spansA = await timedRuns(dir, idA, [], REPEAT);
    const makespan = median(spansA);
    const ratio = makespan / bound;
    log(`  scheduling: weighted DAG ${fmtMs(makespan)} vs bound ${fmtMs(bound)} (${fmtX(ratio)})`);

    // (b) FIFO trap: 8 × 250 ms independent steps listed first, a 4 × 500 ms chain listed last.
    // Critical path first: the chain on one worker, the short steps on the other: 2 s. FIFO takes
    // the short ones first (listed first, ready first): 1 s of them on both workers, then 2 s of chain.
    const idB = "ws-bench-fifo-trap";
    const shorts = Array.from({ length: 8 }, (_, k) => ({ id: `short-${k + 1}`, run: "sleep 0.25", depends_on: [] }));
    const chain = Array.from({ length: 4 }, (_, k) => ({ id: `chain-${k + 1}`, run: "sleep 0.5", depends_on: k === 0 ? [] : [`chain-${k}`] }));
    writeWorkstream(dir, workstream(idB, { max_workers: 2 }, [...shorts, ...chain]));
    await ws(["run", "--ws-id", idB], { cwd: dir }); // history
    const cp = [];
    const fifo = [];
    for (let r = 0; r < REPEAT; r++) {
      cp.push(...(await timedRuns(dir, idB, [], 1)));
      fifo.push(...(await timedRuns(dir, idB, ["--order", "fifo"], 1)));
    }
    const cpMs = median(cp);
    const fifoMs = median(fifo);
    const gain = 1 - cpMs / fifoMs;
    log(`  scheduling: fifo trap critical-path ${fmtMs(cpMs)} vs fifo ${fmtMs(fifoMs)} (${(gain * 100).toFixed(0)} % shorter)`);

    const md = [
      "## 3. Scheduling quality",
      "",
      `Makespan = run-start → run-end in events.jsonl, median of ${REPEAT}, after one run that recorded history.json.`,
      "",
      `(a) Random DAG of ${RANDOM_STEPS} \`sleep\` steps (100–800 ms, ${deps.reduce((s, d) => s + d.length, 0)} edges), ${RANDOM_WORKERS} workers:`,
      "",
      table(
        ["critical path", `work / ${RANDOM_WORKERS}`, "lower bound", "makespan", "ratio", "goal ≤ " + GOAL_BOUND],
        [[fmtMs(criticalPath), fmtMs(work / RANDOM_WORKERS), fmtMs(bound), fmtMs(makespan), fmtX(ratio), goal(ratio <= GOAL_BOUND)]],
      ),
      "",
      `All runs (ms): ${spansA.join(", ")}. The bound counts the sleeps only; each step also pays a process spawn (/bin/sh, then sleep).`,
      "",
      "(b) FIFO trap, 2 workers: 8 independent 250 ms steps listed first, a chain of 4 × 500 ms listed last (lower bound 2 s):",
      "",
      table(
        ["order", "makespan", "runs (ms)"],
        [
          ["critical path (default)", fmtMs(cpMs), cp.join(", ")],
          ["FIFO (`--order fifo`)", fmtMs(fifoMs), fifo.join(", ")],
        ],
      ),
      "",
      `Critical-path order is **${(gain * 100).toFixed(0)} %** shorter (goal ≥ ${GOAL_FIFO * 100} %): ${goal(gain >= GOAL_FIFO)}.`,
    ];
    return { markdown: md.join("\n"), summary: { name: "scheduling", ratio, gain, goalMet: ratio <= GOAL_BOUND && gain >= GOAL_FIFO } };
  } finally {
    removeDir(dir);
  }
}
