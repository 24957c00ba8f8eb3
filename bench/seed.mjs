// 2. The seed shape: a 100 ms trigger, then 5 parallel 200 ms steps; max_workers 5 against
// parallel: false. The speedup is judged on the makespan the scheduler controls (the run-start →
// run-end event timestamps): process start-up, loading and the isolation decision are the same
// fixed cost for both and are reported separately.
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, readRun, removeDir, table, tempDir, workstream, writeWorkstream, ws } from "./lib.mjs";

const REPEAT = 5;
const GOAL = 3.6;
const FANOUT = 5;

function seedSteps() {
  return [
    { id: "trigger", run: "sleep 0.1", depends_on: [] },
    ...Array.from({ length: FANOUT }, (_, k) => ({ id: `work-${k + 1}`, run: "sleep 0.2", depends_on: ["trigger"] })),
  ];
}

/** Per run: the fixed costs around the steps, and per step the time before, in and after its process. */
function timeline(dir, id, events) {
  const at = (e) => Date.parse(e.at);
  const starts = events.filter((e) => e.type === "step-start");
  const ends = events.filter((e) => e.type === "step-end");
  const parts = { first: [at(starts[0]) - at(events[0])], last: [at(events.at(-1)) - Math.max(...ends.map(at))], before: [], process: [], after: [] };
  for (const start of starts) {
    const log = fs.readFileSync(path.join(dir, ".worktrees", id, "steps", start.step, "attempt-1.log"), "utf8");
    const opened = Date.parse(/^# (\S+) \$/m.exec(log)[1]);
    const took = Number(/^# \S+ exit 0 after (\d+)ms/m.exec(log)[1]);
    const sleep = start.step === "trigger" ? 100 : 200;
    const ended = events.find((e) => e.type === "attempt-end" && e.step === start.step);
    parts.before.push(opened - at(start));
    parts.process.push(took - sleep);
    parts.after.push(at(ended) - (opened + took));
  }
  return parts;
}

export async function seed({ log }) {
  const dir = tempDir("seed");
  try {
    writeWorkstream(dir, workstream("ws-seed-parallel", { parallel: true, max_workers: FANOUT }, seedSteps()));
    writeWorkstream(dir, workstream("ws-seed-serial", { parallel: false }, seedSteps()));
    const runs = { parallel: { wall: [], engine: [], span: [], parts: [] }, serial: { wall: [], engine: [], span: [], parts: [] } };
    for (let r = 0; r < REPEAT; r++) {
      for (const [kind, id] of [["parallel", "ws-seed-parallel"], ["serial", "ws-seed-serial"]]) {
        removeDir(path.join(dir, ".worktrees"));
        const run = await ws(["run", "--ws-id", id], { cwd: dir });
        runs[kind].wall.push(run.wallMs);
        const { makespanMs, spanMs, events } = readRun(dir, id);
        runs[kind].parts.push(timeline(dir, id, events));
        runs[kind].engine.push(makespanMs);
        runs[kind].span.push(spanMs);
      }
      log(`  seed round ${r + 1}/${REPEAT}: parallel ${fmtMs(runs.parallel.span.at(-1))}, serial ${fmtMs(runs.serial.span.at(-1))}`);
    }
    const par = median(runs.parallel.span);
    const ser = median(runs.serial.span);
    const parWall = median(runs.parallel.wall);
    const serWall = median(runs.serial.wall);
    const speedup = ser / par;
    const idealPar = 100 + 200;
    const idealSer = 100 + FANOUT * 200;
    const md = [
      `## 2. Seed shape: a 100 ms trigger, then ${FANOUT} parallel 200 ms steps`,
      "",
      `Median of ${REPEAT}. "makespan" is run-start → run-end in events.jsonl; "run duration" is what ws reports (adds the isolation decision, e.g. probing for git); "process" adds Node start-up, loading and validation.`,
      "",
      table(
        ["run", "makespan", "ideal (sleeps only)", "run duration", "process wall"],
        [
          [`max_workers ${FANOUT}`, fmtMs(par), fmtMs(idealPar), fmtMs(median(runs.parallel.engine)), fmtMs(parWall)],
          ["parallel: false", fmtMs(ser), fmtMs(idealSer), fmtMs(median(runs.serial.engine)), fmtMs(serWall)],
        ],
      ),
      "",
      `Speedup (makespan) = **${fmtX(speedup)}** (goal ≥ ${GOAL}×, ideal ${fmtX(idealSer / idealPar)}): ${goal(speedup >= GOAL)}.`,
      `Parallel efficiency = speedup / ${FANOUT} workers = ${((speedup / FANOUT) * 100).toFixed(0)} % ` +
        `(the serial trigger caps it at ${((idealSer / idealPar / FANOUT) * 100).toFixed(0)} %); ` +
        `against the ideal makespan: ${((idealPar / par) * 100).toFixed(0)} %. ` +
        `Speedup of the reported run duration: ${fmtX(median(runs.serial.engine) / median(runs.parallel.engine))}; of the whole process: ${fmtX(serWall / parWall)} (~${fmtMs(parWall - par)} of start-up is paid by both).`,
      "",
      `Per-step overhead, parallel: ${fmtMs(par - idealPar)} over the sleeps; serial: ${fmtMs((ser - idealSer) / (FANOUT + 1))} per step.`,
      "",
      "Where the makespan goes over the sleeps (medians over rounds and steps; from events.jsonl and the step logs, whose header is written when the log opens and whose footer gives the process's duration):",
      "",
      table(
        ["run", "run-start → first step-start", "step-start → log open (per step)", "process − sleep (spawn, exit seen; per step)", "exit → attempt-end (per step)", "last step-end → run-end"],
        ["parallel", "serial"].map((kind) => {
          const parts = runs[kind].parts;
          const m = (key) => fmtMs(median(parts.flatMap((p) => p[key])));
          return [kind === "parallel" ? `max_workers ${FANOUT}` : "parallel: false", m("first"), m("before"), m("process"), m("after"), m("last")];
        }),
      ),
      "",
      `The goal needs serial / parallel ≥ ${GOAL}: with a fixed cost c per run and a cost o per step, (${idealSer} + ${FANOUT + 1}o + c) / (${idealPar} + 2o + c) ≥ ${GOAL}, i.e. ${((GOAL * 2 - (FANOUT + 1))).toFixed(1)}o + ${(GOAL - 1).toFixed(1)}c ≤ ${idealSer - GOAL * idealPar} ms (the parallel starts' stagger counts against it too).`,
    ];
    return { markdown: md.join("\n"), summary: { name: "seed", speedup, goalMet: speedup >= GOAL } };
  } finally {
    removeDir(dir);
  }
}
