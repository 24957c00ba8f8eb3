// 8. Isolation: what a worktree per step and the bubblewrap sandbox cost per step, against the same
// workstream run in place (`isolation: "none"`), in one git repository, interleaved rounds, medians.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, median, removeDir, runTimed, table, tempDir, workstream, writeWorkstream, wsBin } from "./lib.mjs";

const STEPS = 20;
const ROUNDS = 5;

function bwrapWorks() {
  return spawnSync("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"], { stdio: "ignore" }).status === 0;
}

export async function isolation({ log }) {
  const dir = tempDir("isolation");
  const trees = tempDir("isolation-trees");
  try {
    // Two independent chains on two workers: every step changes one file of its own.
    const steps = Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, run: `echo ${i} > f${i}.txt`, file_scope: [`f${i}.txt`], depends_on: i >= 2 ? [`s${i - 2}`] : [] }));
    const modes = ["none", "worktree", ...(bwrapWorks() ? ["sandbox"] : [])];
    for (const mode of modes) writeWorkstream(dir, workstream(`iso-${mode}`, { isolation: mode, max_workers: 2 }, steps));
    fs.writeFileSync(path.join(dir, ".gitignore"), "f*.txt\n");
    const git = (...args) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
    git("init", "-q");
    git("-c", "user.name=b", "-c", "user.email=b@b", "add", "-A");
    git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "bench");
    const env = { WS_WORKTREES_DIR: trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
    const times = modes.map(() => []);
    const first = [];
    for (let r = 0; r <= ROUNDS; r++) {
      for (const [k, mode] of modes.entries()) {
        const run = await runTimed(process.execPath, [wsBin, "run", "--ws-id", `iso-${mode}`], { cwd: dir, env });
        if (run.code !== 0) throw new Error(`ws run iso-${mode} exited ${run.code}`);
        // Round 0 makes the worktrees (a first run); the rest reuse them, as every later run does.
        if (r === 0) first[k] = run.wallMs;
        else times[k].push(run.wallMs);
      }
    }
    const base = median(times[0]);
    const perStep = modes.map((_, k) => (median(times[k]) - base) / STEPS);
    const rows = modes.map((mode, k) => [
      `\`${mode}\``,
      fmtMs(median(times[k])),
      fmtMs(first[k]),
      k === 0 ? "" : `${perStep[k] >= 0 ? "+" : ""}${fmtMs(perStep[k])}`,
    ]);
    log(`  isolation: ${modes.map((m, k) => `${m} ${fmtMs(median(times[k]))}`).join(", ")}`);
    const md = [
      "## 8. Isolation cost per step",
      "",
      `${STEPS} no-op shell steps (two chains, 2 workers, each step writes one file of its own) in one git repository; median of ${ROUNDS} interleaved rounds after a first run that makes the worktrees (its time is the second column). The per-step figure is the median run's excess over \`none\` (in place: no worktree, no commit), divided by the steps; \`worktree\` includes each step's worktree checkout, its commit and the merge onto the run's branch; \`sandbox\` adds bubblewrap around each process.${modes.includes("sandbox") ? "" : " bwrap does not work on this machine: no sandbox row."}`,
      "",
      table(["isolation", "run (median)", "first run", "per step vs none"], rows),
    ];
    return { markdown: md.join("\n"), summary: { name: "isolation", perStep: Object.fromEntries(modes.map((m, k) => [m, perStep[k]])), goalMet: true } };
  } finally {
    removeDir(dir);
    removeDir(trees);
  }
}
