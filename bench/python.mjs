// 11. A Python project's checks (issue 33): examples/python-ci's ws-python-checks (ruff, mypy and
// pytest at once, then the wheel and sdist) through `ws run`, against `make -j2` of the same four
// commands and against them one after another, in one temp git repository with a venv made by pip
// from the configured index (PIP_RETRIES=0: a missing package fails at once). Interleaved rounds
// after a warm-up (mypy's and ruff's caches warm on every side), medians.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, readRun, removeDir, repoRoot, runTimed, table, tempDir, wsBin } from "./lib.mjs";

const ROUNDS = 7;
const GOAL = 1.1;
const ID = "ws-python-checks";
/**
 * The example as it is: lanes get the checkout's venv by default (linked, `.venv/` ignored with
 * its slash). WS_BENCH_PY_LINK=1 links it through `worktree.link` instead, as before that default.
 */
const LINK_VENV = process.env.WS_BENCH_PY_LINK === "1";
const PY = ".venv/bin/python -m";
const COMMANDS = {
  lint: `${PY} ruff check`,
  types: `${PY} mypy`,
  test: `${PY} pytest -q`,
  build: `${PY} build --no-isolation --outdir dist .`,
};
const DEV = ["pytest>=8", "ruff>=0.6", "mypy>=1.10", "build>=1.2", "hatchling>=1.25"];

/** A git repository holding the example, with a venv (an editable install and the dev tools). */
function makeProject(dir, log) {
  fs.cpSync(path.join(repoRoot, "examples", "python-ci"), dir, { recursive: true, filter: (src) => !/(^|\/)(\.venv|dist|__pycache__|\.\w+_cache)$/.test(src) });
  const file = path.join(dir, "workstreams", `${ID}.json`);
  const ws = JSON.parse(fs.readFileSync(file, "utf8"));
  delete ws.$schema;
  if (LINK_VENV) ws.worktree = { ...ws.worktree, link: [".venv"] };
  fs.writeFileSync(file, JSON.stringify(ws, null, 2));
  const ignore = [LINK_VENV ? ".venv" : ".venv/", "dist/", "__pycache__/", "*.egg-info/", ".mypy_cache/", ".ruff_cache/", ".pytest_cache/"];
  fs.writeFileSync(path.join(dir, ".gitignore"), ignore.join("\n") + "\n");
  const steps = Object.keys(COMMANDS);
  const make = [`.PHONY: all ${steps.join(" ")}`, "all: build", ...steps.map((s) => `${s}:${s === "build" ? " lint types test" : ""}\n\t${COMMANDS[s]}`)];
  fs.writeFileSync(path.join(dir, "Makefile.bench"), make.join("\n") + "\n");
  const sh = (cmd, args, env = {}) => execFileSync(cmd, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  log("  python: making the venv (pip)");
  sh("python3", ["-m", "venv", ".venv"]);
  sh(".venv/bin/pip", ["install", "-q", "-e", ".", ...DEV], { PIP_RETRIES: "0" });
  const id = ["-c", "user.name=b", "-c", "user.email=b@b"];
  sh("git", ["init", "-q", "-b", "main"]);
  sh("git", ["add", "-A"]);
  sh("git", [...id, "commit", "-q", "-m", "bench"]);
}

export async function python({ log }) {
  const dir = tempDir("python");
  const trees = tempDir("python-lanes");
  try {
    makeProject(dir, log);
    const env = { WS_WORKTREES_DIR: trees, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
    const contenders = [
      ["`make -j2`", "make", ["-s", "-j2", "-f", "Makefile.bench"]],
      ["one after another", "sh", ["-c", Object.values(COMMANDS).join(" && ")]],
      ["`ws run`", process.execPath, [wsBin, "run", ID]],
    ];
    const times = contenders.map(() => []);
    // ws's wall split: the scheduled part (run-start to run-end) and what is around it (start-up,
    // the base snapshot, the summary), so a miss says where it is.
    const spans = [];
    for (let round = -1; round < ROUNDS; round++) {
      for (const [k, [label, cmd, args]] of contenders.entries()) {
        const run = await runTimed(cmd, args, { cwd: dir, env, capture: true });
        if (run.code !== 0) throw new Error(`${label} exited ${run.code}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
        // The first round warms the tools' caches and makes ws's lanes (and their links).
        if (round >= 0) times[k].push(run.wallMs);
        if (round >= 0 && k === 2) spans.push(readRun(dir, ID).spanMs);
      }
    }
    const base = median(times[0]);
    const rows = contenders.map(([label], k) => [label, fmtMs(median(times[k])), fmtMs(Math.min(...times[k])), fmtX(median(times[k]) / base), k === 2 ? `${goal(median(times[k]) / base <= GOAL)} (≤ ${GOAL}×)` : ""]);
    const ratio = median(times[2]) / base;
    const sequential = median(times[1]) / base;
    const span = median(spans);
    log(`  python: make -j2 ${fmtMs(base)}, one after another ${fmtX(sequential)}, ws ${fmtX(ratio)} (run-start to run-end ${fmtMs(span)})`);
    const md = [
      "## 12. A Python project's checks",
      "",
      `examples/python-ci's \`${ID}\` (ruff, mypy --strict and pytest at once, then \`python -m build\`; \`max_workers: 2\`) in a temp git repository with a venv made by pip (an editable install and the dev tools), against \`make -j2\` of the same four commands (build after the three) and the four one after another. Median (and best) of ${ROUNDS} interleaved rounds after a warm-up round (tools' caches warm on every side; ws's lanes made). ws runs each step in a lane of its own and commits nothing (the checks change no file). ${LINK_VENV ? "The venv reaches the lanes through `\"worktree\": {\"link\": [\".venv\"]}` in a copy of the workstream (`.venv` ignored without a slash)." : "The workstream as the example has it: lanes get the checkout's venv by default."} Goal: ws ≤ ${GOAL}× \`make -j2\`.`,
      "",
      table(["command", "median", "best", "vs make -j2", "goal"], rows),
      "",
      `Of ws's median wall, ${fmtMs(span)} (median) lie between its run-start and run-end events (the steps, their lanes and the hops between them); the rest, ${fmtMs(median(times[2]) - span)}, is the process around them (start-up, validation, the snapshot of the working tree the run starts from, the summary).`,
    ];
    return { markdown: md.join("\n"), summary: { name: "python", ratio, sequential, makeMs: base, spanMs: span, goalMet: ratio <= GOAL } };
  } finally {
    removeDir(dir);
    removeDir(trees);
  }
}
