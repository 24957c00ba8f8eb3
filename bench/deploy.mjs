// 11. The deploy demo (workstreams/ws-deploy-pipeline.json) in place and in a git repository (a
// lane per step, each passed step committed and joined onto ws/<id>), against the critical path
// of its sleeps (issue 32: what isolation adds on each hop between steps).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, readRun, removeDir, repoRoot, runTimed, table, tempDir, wsBin } from "./lib.mjs";

const ID = "ws-deploy-pipeline";
const ROUNDS = 7;

/** The longest chain of `sleep N` over the steps that run (a step with `when` is skipped here, and so is what depends on it). */
function criticalPathMs(ws) {
  const skipped = new Set();
  for (const step of ws.steps) if (step.when !== undefined || step.depends_on.some((d) => skipped.has(d))) skipped.add(step.id);
  const finish = {};
  for (const step of ws.steps) {
    if (skipped.has(step.id)) continue;
    const sleep = Number(/sleep ([\d.]+)/.exec(step.run)?.[1] ?? 0) * 1000;
    finish[step.id] = sleep + Math.max(0, ...step.depends_on.map((d) => finish[d] ?? 0));
  }
  return Math.max(...Object.values(finish));
}

function project(git, label) {
  const dir = tempDir(label);
  const ws = JSON.parse(fs.readFileSync(path.join(repoRoot, "workstreams", `${ID}.json`), "utf8"));
  delete ws.$schema;
  fs.mkdirSync(path.join(dir, "workstreams"));
  fs.writeFileSync(path.join(dir, "workstreams", `${ID}.json`), JSON.stringify(ws, null, 1));
  if (git) {
    const g = (...args) => execFileSync("git", ["-c", "user.name=b", "-c", "user.email=b@b", ...args], { cwd: dir, stdio: "ignore" });
    g("init", "-q");
    fs.writeFileSync(path.join(dir, "README.md"), "# demo\n");
    g("add", "-A");
    g("commit", "-q", "-m", "bench");
  }
  return { dir, trees: tempDir(`${label}-lanes`), ws };
}

/** One run: its span (run-start → run-end), the median hop (a step's start after its last dependency's end) and the median tail (a step's end after its last acceptance test). */
async function runOnce(p) {
  const env = { WS_WORKTREES_DIR: p.trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
  const run = await runTimed(process.execPath, [wsBin, "run", ID], { cwd: p.dir, env });
  if (run.code !== 0) throw new Error(`ws run ${ID} exited ${run.code}`);
  const { spanMs, events } = readRun(p.dir, ID);
  const at = (e) => Date.parse(e.at);
  const ended = Object.fromEntries(events.filter((e) => e.type === "step-end").map((e) => [e.step, at(e)]));
  const hops = [];
  const tails = [];
  for (const step of p.ws.steps) {
    const start = events.find((e) => e.type === "step-start" && e.step === step.id);
    if (start === undefined) continue;
    if (step.depends_on.length > 0) hops.push(at(start) - Math.max(...step.depends_on.map((d) => ended[d])));
    const lastTest = events.findLast((e) => e.type === "test-end" && e.step === step.id);
    if (lastTest !== undefined) tails.push(ended[step.id] - at(lastTest));
  }
  return { spanMs, wallMs: run.wallMs, hopMs: median(hops), tailMs: median(tails), maxHopMs: Math.max(...hops) };
}

export async function deploy({ log }) {
  const places = [project(false, "deploy-inplace"), project(true, "deploy-git")];
  try {
    const pathMs = criticalPathMs(places[0].ws);
    // A first run of each: the git run makes its lanes; later runs reuse them, as every later run does.
    for (const p of places) await runOnce(p);
    const runs = places.map(() => []);
    for (let r = 0; r < ROUNDS; r++) for (const [k, p] of places.entries()) runs[k].push(await runOnce(p));
    const med = (k, key) => median(runs[k].map((x) => x[key]));
    // Paired: each git run against the in-place run of its own round.
    const paired = median(runs[1].map((x, i) => x.spanMs / runs[0][i].spanMs));
    const vsPath = med(1, "spanMs") / pathMs;
    const rows = ["in place (no git repository)", "in a git repository (a lane per step, commits joined onto ws/<id>)"].map((name, k) => [
      name,
      fmtMs(med(k, "spanMs")),
      fmtX(med(k, "spanMs") / pathMs),
      fmtMs(med(k, "hopMs")),
      fmtMs(med(k, "maxHopMs")),
      fmtMs(med(k, "tailMs")),
      fmtMs(med(k, "wallMs")),
    ]);
    log(`  deploy: in place ${fmtMs(med(0, "spanMs"))}, git ${fmtMs(med(1, "spanMs"))} (${fmtX(paired)} in place, ${fmtX(vsPath)} the ${fmtMs(pathMs)} path)`);
    const md = [
      "## 11. Deploy demo: in place, in a git repository, and its critical path",
      "",
      `The bundled \`${ID}\` (10 steps, ${fmtMs(pathMs)} of sleeps on its critical path), run in a folder that is no git repository and in a git repository (the default there: a lane per step, each passed step committed and joined onto \`ws/${ID}\`), the two interleaved in ${ROUNDS} rounds after a first run of each; medians. Makespan: run-start → run-end. Hop: a step's start after the end of its last dependency (median over the run's steps; max: its worst hop). Tail: a step's end after its last acceptance test (its commit and join). Goals (issue 32): in a git repository ≤ 1.15× the critical path and ≤ 1.1× in place (paired by round).`,
      "",
      table(["run", "makespan", "vs critical path", "hop (median)", "hop (max)", "tail (median)", "wall of `ws run`"], rows),
      "",
      `In a git repository: ${fmtX(vsPath)} the critical path (≤ 1.15×: ${goal(vsPath <= 1.15)}), ${fmtX(paired)} in place, paired (≤ 1.1×: ${goal(paired <= 1.1)}).`,
    ];
    return { markdown: md.join("\n"), summary: { name: "deploy", pathMs, inPlaceMs: med(0, "spanMs"), gitMs: med(1, "spanMs"), vsPath, paired, hopMs: med(1, "hopMs"), tailMs: med(1, "tailMs"), goalMet: vsPath <= 1.15 && paired <= 1.1 } };
  } finally {
    for (const p of places) {
      removeDir(p.dir);
      removeDir(p.trees);
    }
  }
}
