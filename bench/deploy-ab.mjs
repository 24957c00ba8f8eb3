// Interleaved A/B of the deploy demo (issue 32): in place (build B), in a git repository with build A
// (WS_BENCH_A: a bin/ws.js, e.g. main's build in a copy), in a git repository with build B (WS_BENCH_B,
// default this checkout's); ROUNDS rounds after a first run of each, the order rotated each round.
// Prints each round, the medians (makespan, hop, tail as bench/deploy.mjs measures them) and the
// paired ratios. `node bench/deploy-ab.mjs`
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { median, readRun, removeDir, repoRoot, runTimed, tempDir, wsBin } from "./lib.mjs";
const ID = "ws-deploy-pipeline";
const A = process.env.WS_BENCH_A && path.resolve(process.env.WS_BENCH_A);
if (!A) throw new Error("WS_BENCH_A: the bin/ws.js of the build to compare with");
const B = path.resolve(process.env.WS_BENCH_B ?? wsBin);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const wsDoc = JSON.parse(fs.readFileSync(path.join(repoRoot, "workstreams", `${ID}.json`), "utf8"));
delete wsDoc.$schema;
function project(git, label) {
  const dir = tempDir(label);
  fs.mkdirSync(path.join(dir, "workstreams"));
  fs.writeFileSync(path.join(dir, "workstreams", `${ID}.json`), JSON.stringify(wsDoc, null, 1));
  if (git) {
    const g = (...args) => execFileSync("git", ["-c", "user.name=b", "-c", "user.email=b@b", ...args], { cwd: dir, stdio: "ignore" });
    g("init", "-q"); fs.writeFileSync(path.join(dir, "README.md"), "# demo\n"); g("add", "-A"); g("commit", "-q", "-m", "bench");
  }
  return { dir, trees: tempDir(`${label}-lanes`) };
}
async function once(p, bin) {
  const env = { WS_WORKTREES_DIR: p.trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
  const run = await runTimed(process.execPath, [bin, "run", ID], { cwd: p.dir, env });
  if (run.code !== 0) throw new Error(`exit ${run.code}`);
  const { spanMs, events } = readRun(p.dir, ID);
  const at = (e) => Date.parse(e.at);
  const ended = Object.fromEntries(events.filter((e) => e.type === "step-end").map((e) => [e.step, at(e)]));
  const hops = [], tails = [];
  for (const step of wsDoc.steps) {
    const start = events.find((e) => e.type === "step-start" && e.step === step.id);
    if (!start) continue;
    if (step.depends_on.length > 0) hops.push(at(start) - Math.max(...step.depends_on.map((d) => ended[d])));
    const lastTest = events.findLast((e) => e.type === "test-end" && e.step === step.id);
    if (lastTest) tails.push(ended[step.id] - at(lastTest));
  }
  return { span: spanMs, hop: median(hops), tail: median(tails), wall: run.wallMs };
}
const load = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const P = { inplace: project(false, "ab-in"), gitA: project(true, "ab-a"), gitB: project(true, "ab-b") };
const bins = { inplace: B, gitA: A, gitB: B };
const res = { inplace: [], gitA: [], gitB: [] };
console.log("load at start", load());
for (const k of Object.keys(P)) await once(P[k], bins[k]);
const order = Object.keys(P);
for (let r = 0; r < ROUNDS; r++) {
  const rot = order.slice(r % 3).concat(order.slice(0, r % 3));
  for (const k of rot) res[k].push(await once(P[k], bins[k]));
  console.log(`round ${r}: ` + order.map((k) => `${k} ${res[k][r].span}`).join(", ") + `  load ${load()}`);
}
const med = (k, f) => median(res[k].map((x) => x[f]));
for (const k of order) console.log(`${k.padEnd(8)} span ${med(k, "span")} (${(med(k, "span") / 1400).toFixed(3)}x path) hop ${med(k, "hop")} tail ${med(k, "tail")} wall ${med(k, "wall")}`);
const pair = (k) => median(res[k].map((x, i) => x.span / res.inplace[i].span)).toFixed(3);
console.log(`paired vs in place: A ${pair("gitA")}  B ${pair("gitB")}; B/A paired ${median(res.gitB.map((x, i) => x.span / res.gitA[i].span)).toFixed(3)}`);
console.log("load at end", load());
for (const p of Object.values(P)) { removeDir(p.dir); removeDir(p.trees); }
