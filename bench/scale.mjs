// 7. Scale: a 50 000-step workstream (the validation benchmark's shape): `ws run --only` of 3
// steps, then `ws status` of that run. Both were minutes (149 s and over 60 s) when the step
// table was cli-table3's quadratic layout and state.json was rewritten at every step boundary.
// `ws validate` of the same file is measured beside them: `run --only` still validates the whole
// file (every error of it is reported), so that is the floor of the run's figure.
import fs from "node:fs";
import { fmtMs, goal, median, removeDir, runTimed, table, tempDir, writeWorkstream, wsBin } from "./lib.mjs";
import { bigWorkstream } from "./validation.mjs";

const STEPS = 50_000;
const REPEAT = 3;
const GOAL_MS = 2000;

/**
 * Wall time, and CPU time (user + system, through GNU time when it is installed): on a machine
 * shared with other test suites the wall time mostly measures the load, the CPU time does not.
 */
async function timed(args, cwd) {
  const gnuTime = fs.existsSync("/usr/bin/time");
  const run = gnuTime
    ? await runTimed("/usr/bin/time", ["-f", "cpu %U %S", process.execPath, wsBin, ...args], { cwd, capture: true })
    : await runTimed(process.execPath, [wsBin, ...args], { cwd });
  if (run.code !== 0) throw new Error(`ws ${args.join(" ")} exited ${run.code}`);
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(run.stderr ?? "");
  return { wallMs: run.wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

export async function scale({ log }) {
  const dir = tempDir("scale");
  try {
    const id = "ws-bench-scale";
    const ws = bigWorkstream(id, STEPS);
    writeWorkstream(dir, ws);
    // Steps with no dependency: s0, s10... start a module unless they depend on an earlier one.
    const only = ws.steps.filter((s) => s.depends_on.length === 0).slice(0, 3).map((s) => s.id);
    const runs = [];
    const statuses = [];
    const validations = [];
    for (let r = 0; r < REPEAT; r++) {
      removeDir(`${dir}/.worktrees`);
      runs.push(await timed(["run", "--ws-id", id, "--only", only.join(",")], dir));
      statuses.push(await timed(["status", "--ws-id", id], dir));
      validations.push(await timed(["validate", "--ws-id", id], dir));
      log(`  scale round ${r + 1}/${REPEAT}: run --only ${fmtMs(runs.at(-1).wallMs)} (cpu ${fmtMs(runs.at(-1).cpuMs)}), status ${fmtMs(statuses.at(-1).wallMs)} (cpu ${fmtMs(statuses.at(-1).cpuMs)}), validate ${fmtMs(validations.at(-1).wallMs)} (cpu ${fmtMs(validations.at(-1).cpuMs)})`);
    }
    const runMs = median(runs.map((r) => r.wallMs));
    const statusMs = median(statuses.map((r) => r.wallMs));
    const validateMs = median(validations.map((r) => r.wallMs));
    const cpu = (list) => fmtMs(median(list.map((r) => r.cpuMs)));
    const md = [
      `## 7. Scale: ${STEPS.toLocaleString("en-US")} steps`,
      "",
      `Whole process, median of ${REPEAT}; \`--only ${only.join(",")}\` (3 independent no-op steps). Goal < ${GOAL_MS} ms each.`,
      "",
      table(
        ["command", "median wall", "median CPU (user+sys)", "wall runs (ms)", `goal < ${GOAL_MS} ms`],
        [
          ["`ws run --only` (3 steps)", fmtMs(runMs), cpu(runs), runs.map((r) => Math.round(r.wallMs)).join(", "), goal(runMs < GOAL_MS)],
          ["`ws status` of that run", fmtMs(statusMs), cpu(statuses), statuses.map((r) => Math.round(r.wallMs)).join(", "), goal(statusMs < GOAL_MS)],
          ["`ws validate` of the file (what `run --only` validates first; no goal)", fmtMs(validateMs), cpu(validations), validations.map((r) => Math.round(r.wallMs)).join(", "), ""],
        ],
      ),
    ];
    return { markdown: md.join("\n"), summary: { name: "scale", runMs, statusMs, validateMs, runCpuMs: median(runs.map((r) => r.cpuMs)), statusCpuMs: median(statuses.map((r) => r.cpuMs)), goalMet: runMs < GOAL_MS && statusMs < GOAL_MS } };
  } finally {
    removeDir(dir);
  }
}
