// `node bench/report.mjs`: `ws report` of a 1000-step run (issue 29: written in < 1 s, < 2 MB).
// The run is made up, not run: a random DAG of 1000 steps, each with a worktree wait, an attempt,
// an acceptance test and a commit of its own in a real git repository (one file of 20 lines), a
// 40-line attempt log, every tenth step retried once. What is timed is the whole command, node's
// start included, against the built binary (`npm run build` first); the median of REPEAT runs.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, median, randomDag, removeDir, runTimed, tempDir, workstream, writeWorkstream, wsBin } from "./lib.mjs";

const STEPS = 1000;
const REPEAT = 5;
const GOAL_MS = 1000;
const GOAL_BYTES = 2 * 1024 * 1024;

export async function report({ log = (line) => process.stdout.write(line + "\n") } = {}) {
  const dir = tempDir("report");
  try {
    const id = "ws-bench-report";
    const name = (i) => `s${String(i).padStart(4, "0")}`;
    const deps = randomDag(STEPS, { seed: 7, maxDeps: 3, window: 40 });
    const file = writeWorkstream(dir, { ...workstream(id, { max_workers: 4 }, deps.map((ds, i) => ({ id: name(i), run: "true", depends_on: ds.map(name) }))), execution: { max_workers: 4 } });
    const hash = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const commits = makeCommits(dir, STEPS);
    writeRun(dir, id, deps, name, commits, hash);
    const walls = [];
    let size = 0;
    for (let k = 0; k < REPEAT; k++) {
      const r = await runTimed(process.execPath, [wsBin, "report", id], { cwd: dir, capture: true });
      if (r.code !== 0) throw new Error(`ws report exited ${r.code}: ${r.stderr}`);
      walls.push(r.wallMs);
      size = fs.statSync(path.join(dir, ".worktrees", id, "report.html")).size;
      if (process.env.WS_BENCH_KEEP) fs.copyFileSync(path.join(dir, ".worktrees", id, "report.html"), process.env.WS_BENCH_KEEP);
    }
    const wall = median(walls);
    log(`ws report of ${STEPS} steps (${STEPS} commits, ${STEPS + STEPS / 10} attempts): ${fmtMs(wall)} median of ${REPEAT} (goal < ${fmtMs(GOAL_MS)}: ${(wall / GOAL_MS).toFixed(2)}× the goal), ${(size / 1024).toFixed(0)} KB (goal < 2 MB: ${(size / GOAL_BYTES).toFixed(2)}× the goal)`);
    return { wall, size };
  } finally {
    if (process.env.WS_BENCH_KEEP_DIR) process.stdout.write(`kept ${dir}\n`);
    else removeDir(dir);
  }
}

/** One commit per step, each adding a file of 20 lines, through one git fast-import. */
function makeCommits(dir, count) {
  const git = (args, input) => execFileSync("git", args, { cwd: dir, input, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.com", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.com" } });
  git(["init", "-q", "-b", "main"]);
  let stream = "";
  for (let i = 0; i < count; i++) {
    const body = Array.from({ length: 20 }, (_, k) => `line ${k} of step ${i}`).join("\n") + "\n";
    stream += `commit refs/heads/ws/bench\nmark :${i + 1}\ncommitter b <b@example.com> ${1_700_000_000 + i} +0000\ndata 8\nstep ${String(i).padStart(3, "0")}\n`;
    if (i > 0) stream += `from :${i}\n`;
    stream += `M 100644 inline out/s${i}.txt\ndata ${Buffer.byteLength(body)}\n${body}\n`;
  }
  git(["fast-import", "--quiet", "--export-marks=marks"], stream);
  const marks = new Map(fs.readFileSync(path.join(dir, "marks"), "utf8").trim().split("\n").map((l) => l.slice(1).split(" ")));
  return Array.from({ length: count }, (_, i) => marks.get(String(i + 1)));
}

/** The events a 4-worker run of the DAG would leave, steps in order, 100-300 ms each. */
function writeRun(dir, id, deps, name, commits, hash) {
  const state = path.join(dir, ".worktrees", id);
  const t0 = Date.parse("2026-12-01T10:00:00Z");
  const iso = (ms) => new Date(t0 + ms).toISOString();
  const steps = deps.map((_, i) => name(i));
  const lines = [{ type: "run-start", at: iso(0), runId: "bench", wsId: id, file: path.join(dir, "workstreams", `${id}.json`), hash, steps, selected: steps, maxWorkers: 4, pid: 1, resume: false, workdir: dir, branch: "ws/bench" }];
  const end = new Array(steps.length).fill(0);
  const free = [0, 0, 0, 0];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const ready = Math.max(0, ...deps[i].map((d) => end[d]));
    const lane = free.indexOf(Math.min(...free));
    let t = Math.max(ready, free[lane]);
    lines.push({ type: "step-wait", at: iso(ready), step, wait: "worker" }, { type: "step-wait", at: iso(t), step, wait: "lane" });
    t += 10;
    const tries = i % 10 === 0 ? 2 : 1;
    const dirOf = path.join(state, "steps", step);
    fs.mkdirSync(dirOf, { recursive: true });
    let busy = 0;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const passed = attempt === tries;
      const ms = 100 + ((i * 37) % 200);
      lines.push({ type: "step-start", at: iso(t), step, attempt, tool: "shell" });
      lines.push({ type: "test-start", at: iso(t + ms - 20), step, attempt, index: 1, command: `test -s out/${step}.txt` });
      const reason = passed ? { kind: "passed" } : { kind: "tests_failed" };
      const tail = passed ? [] : [`out/${step}.txt: not found`];
      lines.push({ type: "test-end", at: iso(t + ms), step, attempt, index: 1, command: `test -s out/${step}.txt`, passed, reason: passed ? reason : { kind: "exit", code: 1 }, exitCode: passed ? 0 : 1, durationMs: 20, log: `steps/${step}/attempt-${attempt}.test-1.log`, tail });
      lines.push({ type: "attempt-end", at: iso(t + ms), step, attempt, passed, reason, exitCode: 0, signal: null, durationMs: ms, log: `steps/${step}/attempt-${attempt}.log`, tail });
      fs.writeFileSync(path.join(dirOf, `attempt-${attempt}.log`), Array.from({ length: 40 }, (_, k) => `10:00:00.000 out| ${step} attempt ${attempt} line ${k}`).join("\n") + "\n");
      t += ms + 5;
      busy += ms;
    }
    lines.push({ type: "step-end", at: iso(t + 30), step, state: "passed", reason: { kind: "passed" }, attempts: tries, durationMs: busy, commit: commits[i] });
    end[i] = t + 30;
    free[lane] = t + 30;
  }
  const makespan = Math.max(...end);
  lines.push({ type: "run-end", at: iso(makespan), outcome: "passed", exitCode: 0, durationMs: makespan, sequentialMs: makespan });
  // The log in time order, as the engine writes it.
  lines.sort((a, b) => (a.type === "run-start" ? -1 : b.type === "run-start" ? 1 : Date.parse(a.at) - Date.parse(b.at)));
  fs.writeFileSync(path.join(state, "events.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) await report();
