// 11. New lanes without a second setup (issue 32): a real npm project (a package.json of real
// registry packages, its lockfile resolved here by npm: fetched code is never committed), four
// parallel steps with `worktree.setup: "npm ci"`. Time from `ws run` to the fourth step's start,
// on a first run (no lanes, no state) and on a second, against one `npm ci` alone from the same
// warm cache, and against the old way (WS_LANE_SEED=setup: every lane runs npm ci), interleaved.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, median, removeDir, runTimed, table, tempDir, writeWorkstream, wsBin } from "./lib.mjs";

const ROUNDS = 3;
// Moderate and real: a linting and typing toolchain plus a web framework, ~270 packages, ~110 MB.
const DEPENDENCIES = { express: "^4.21.0" };
const DEV_DEPENDENCIES = {
  "@eslint/js": "^9.0.0",
  "@types/node": "^22.0.0",
  eslint: "^9.0.0",
  "eslint-config-prettier": "^10.0.0",
  globals: "^16.0.0",
  prettier: "^3.2.0",
  tsd: "^0.33.0",
  typescript: "^5.6.0",
  "typescript-eslint": "^8.12.0",
};
const SETUP = "npm ci --no-audit --no-fund --prefer-offline";

function npm(cwd, args) {
  execFileSync("npm", args, { cwd, stdio: "ignore", timeout: 10 * 60_000, env: { ...process.env, npm_config_update_notifier: "false" } });
}

/** The project: package.json, the lockfile npm resolves for it, a workstream of four parallel steps, one commit. */
function makeProject(dir) {
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-lanes", version: "1.0.0", private: true, dependencies: DEPENDENCIES, devDependencies: DEV_DEPENDENCIES }, null, 2));
  fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules\n");
  npm(dir, ["install", "--package-lock-only", "--no-audit", "--no-fund"]);
  const steps = [1, 2, 3, 4].map((k) => ({ id: `agent-${k}`, run: "sleep 0.2", file_scope: [] }));
  writeWorkstream(dir, {
    id: "lanes",
    name: "lanes",
    execution: { isolation: "worktree", max_workers: 4, timeout_per_step: 0 },
    worktree: { setup: SETUP },
    defaults: { tool: "shell", retries: 0 },
    steps,
  });
  const git = (...args) => execFileSync("git", ["-c", "user.name=b", "-c", "user.email=b@b", ...args], { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "bench");
}

/** `ws run` from its spawn to the fourth step-start of that run (events.jsonl), and the lanes' setup records. */
async function fourthStart(dir, env) {
  const events = path.join(dir, ".worktrees", "lanes", "events.jsonl");
  const before = fs.existsSync(events) ? fs.readFileSync(events, "utf8").length : 0;
  const spawned = Date.now();
  const run = await runTimed(process.execPath, [wsBin, "run", "lanes"], { cwd: dir, env, capture: true });
  if (run.code !== 0) throw new Error(`ws run exited ${run.code}: ${run.stderr.slice(-2000)}`);
  const starts = fs.readFileSync(events, "utf8").slice(before).split("\n").filter(Boolean).map((line) => JSON.parse(line)).filter((e) => e.type === "step-start").map((e) => Date.parse(e.at));
  if (starts.length !== 4) throw new Error(`expected 4 step-starts, saw ${starts.length}`);
  const records = [1, 2, 3, 4].map((n) => path.join(dir, ".worktrees", "lanes", "lanes", `lane-${n}`, "setup.json")).filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  return { ms: Math.max(...starts) - spawned, records };
}

function cloneWorks(dir) {
  const a = path.join(dir, "probe");
  fs.writeFileSync(a, "x");
  try {
    execFileSync("cp", ["--reflink=always", a, `${a}-2`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function laneSetup({ log }) {
  const dir = tempDir("lanes");
  const scratch = tempDir("lanes-npm");
  const trees = tempDir("lanes-trees");
  try {
    try {
      makeProject(dir);
    } catch (error) {
      log(`  lane-setup: skipped, npm could not resolve the project (registry unreachable?): ${String(error).split("\n")[0]}`);
      const md = ["## 13. New lanes without a second setup", "", "Skipped: `npm install --package-lock-only` failed here (the npm registry is unreachable?); nothing was measured."];
      return { markdown: md.join("\n"), summary: { name: "lane-setup", skipped: true, goalMet: false } };
    }
    for (const file of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(dir, file), path.join(scratch, file));
    npm(scratch, ["ci", "--no-audit", "--no-fund"]); // fills the cache: every later npm ci is a warm one
    const packages = Object.keys(JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8")).packages).length - 1;
    const env = { WS_WORKTREES_DIR: trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
    const fresh = () => {
      removeDir(trees);
      removeDir(path.join(dir, ".worktrees"));
    };
    const times = { setup: [], first: [], second: [], old: [] };
    const copies = [];
    // Paired within a round (the load here swings between rounds): the first run against the npm ci
    // just before it, and against lane 1's own setup inside that very run (its record's setupMs).
    const paired = [];
    const inRun = [];
    for (let r = 0; r < ROUNDS; r++) {
      removeDir(path.join(scratch, "node_modules"));
      times.setup.push((await runTimed("npm", SETUP.split(" ").slice(1), { cwd: scratch })).wallMs);
      fresh();
      const first = await fourthStart(dir, env);
      times.first.push(first.ms);
      copies.push(...first.records.filter((rec) => rec.how !== "setup").map((rec) => rec.ms));
      paired.push(first.ms / times.setup[r]);
      const own = first.records.find((rec) => rec.how === "setup")?.setupMs;
      if (own !== undefined) inRun.push(first.ms / own);
      times.second.push((await fourthStart(dir, env)).ms);
      fresh();
      times.old.push((await fourthStart(dir, { ...env, WS_LANE_SEED: "setup" })).ms);
      log(`  lane-setup round ${r + 1}: npm ci ${fmtMs(times.setup[r])}, first run ${fmtMs(times.first[r])}, second ${fmtMs(times.second[r])}, every lane its own npm ci ${fmtMs(times.old[r])}`);
    }
    const setupMs = median(times.setup);
    const ratio = median(paired);
    const secondMs = median(times.second);
    const clone = cloneWorks(trees);
    const rows = [
      ["one `npm ci` alone (warm cache)", fmtMs(setupMs), "1.00×"],
      ["first run: lane 1 sets up, lanes 2–4 get its node_modules", fmtMs(median(times.first)), `${ratio.toFixed(2)}× (paired; ${inRun.length > 0 ? `${median(inRun).toFixed(2)}× lane 1's own npm ci in that run` : "n/a"})`],
      ["second run (lanes set up, lockfile unchanged)", fmtMs(secondMs), `${(secondMs / setupMs).toFixed(2)}×`],
      ["first run, every lane its own npm ci (WS_LANE_SEED=setup, before issue 32)", fmtMs(median(times.old)), `${(median(times.old) / setupMs).toFixed(2)}×`],
    ];
    const md = [
      "## 13. New lanes without a second setup",
      "",
      `A project of ${packages} real npm packages (package.json in bench/lane-setup.mjs, lockfile resolved by npm at bench time), four parallel \`sleep 0.2\` steps, \`worktree.setup: "${SETUP}"\`, the npm cache warm. Time from spawning \`ws run\` to the fourth step-start in events.jsonl; median of ${ROUNDS} interleaved rounds (npm ci, first run, second run, the old way), the first run's ratio paired with the npm ci of its own round (per round: ${paired.map((v) => `${v.toFixed(2)}×`).join(", ")}). The file system of the lanes ${clone ? "clones files (reflink): lanes 2–4 get copy-on-write clones" : "has no copy-on-write clone (cp --reflink fails): lanes 2–4 get a plain copy"}; each such copy took ${copies.length > 0 ? `${fmtMs(median(copies))} (median of ${copies.length}, three at once)` : "n/a"} against ${fmtMs(setupMs)} for npm ci.`,
      "",
      table(["run", "ws run → 4th step starts", "vs one npm ci"], rows),
      "",
      `Goal: first run ≤ 1.3× one setup (${ratio <= 1.3 ? "met" : "**missed**"}), second run ≤ 2 s (${secondMs <= 2000 ? "met" : "**missed**"}).`,
    ];
    return { markdown: md.join("\n"), summary: { name: "lane-setup", ratio, secondMs, setupMs, goalMet: ratio <= 1.3 && secondMs <= 2000 } };
  } finally {
    removeDir(dir);
    removeDir(scratch);
    removeDir(trees);
  }
}
