// The git processes of one deploy demo run that start on its critical path (issue 32), from
// GIT_TRACE2_EVENT: in each tail (the last test-end → step-end of prepare, e2e-tests, deploy-staging,
// smoke-tests), each hop (the last dependency's end → step-start) and between the last step-end and
// run-end; started there, not all waited for (some run beside what follows). Long-lived gits count
// once, when started. `node bench/deploy-gits.mjs [bin/ws.js] [runs]`
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot, wsBin } from "./lib.mjs";
const bin = path.resolve(process.argv[2] ?? wsBin);
const N = Number(process.argv[3] ?? 3);
const ID = "ws-deploy-pipeline";
const wsDoc = JSON.parse(fs.readFileSync(path.join(repoRoot, "workstreams", `${ID}.json`), "utf8")); delete wsDoc.$schema;
const chain = ["prepare", "e2e-tests", "deploy-staging", "smoke-tests"];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-gits-")), trees = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-gits-lanes-"));
fs.mkdirSync(path.join(dir, "workstreams")); fs.writeFileSync(path.join(dir, "workstreams", `${ID}.json`), JSON.stringify(wsDoc));
const g = (...a) => execFileSync("git", ["-c", "user.name=b", "-c", "user.email=b@b", ...a], { cwd: dir, stdio: "ignore" });
g("init", "-q"); fs.writeFileSync(path.join(dir, "README.md"), "# demo\n"); g("add", "-A"); g("commit", "-q", "-m", "bench");
const env = { ...process.env, WS_WORKTREES_DIR: trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
spawnSync(process.execPath, [bin, "run", ID], { cwd: dir, env, stdio: "ignore" });
const totals = [];
for (let r = 0; r < N; r++) {
  const tdir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-gits-trace-"));
  spawnSync(process.execPath, [bin, "run", ID], { cwd: dir, env: { ...env, GIT_TRACE2_EVENT: tdir }, stdio: "ignore" });
  const all = fs.readFileSync(path.join(dir, ".worktrees", ID, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const events = all.slice(all.findLastIndex((e) => e.type === "run-start"));
  const at = (type, step) => Date.parse(events.findLast((e) => e.type === type && (step === undefined || e.step === step)).at);
  const starts = [];
  for (const f of fs.readdirSync(tdir)) {
    const start = fs.readFileSync(path.join(tdir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.event === "start");
    if (start && start.sid.split("/").length === 1) starts.push({ t: Date.parse(start.time), cmd: start.argv.filter((a, i, x) => a !== "-c" && x[i - 1] !== "-c").slice(1, 3).join(" ") });
  }
  const inWindow = (a, b) => starts.filter((s) => s.t >= a - 1 && s.t <= b);
  let tail = [], hop = [];
  for (const s of chain) {
    tail.push(...inWindow(at("test-end", s), at("step-end", s)));
    const deps = wsDoc.steps.find((x) => x.id === s).depends_on;
    if (deps.length) hop.push(...inWindow(Math.max(...deps.map((d) => at("step-end", d))), at("step-start", s)));
  }
  const end = inWindow(at("step-end", "smoke-tests"), at("run-end"));
  totals.push({ all: starts.length, tail: tail.map((s) => s.cmd), hop: hop.map((s) => s.cmd), end: end.map((s) => s.cmd) });
  fs.rmSync(tdir, { recursive: true, force: true });
}
for (const t of totals) console.log(`processes ${t.all}; tails ${t.tail.length} [${t.tail.join(", ")}]; hops ${t.hop.length} [${t.hop.join(", ")}]; last step→run-end ${t.end.length} [${t.end.join(", ")}]`);
fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(trees, { recursive: true, force: true });
