// Shared helpers for the benchmarks: temp dirs, running the built ws binary, timing, peak RSS,
// seeded random DAGs. Plain ESM so `node bench/run.mjs` needs no build step of its own.
import { spawn } from "node:child_process";
import { setInterval, clearInterval } from "node:timers";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// WS_BENCH_BIN points the benchmarks at another build (e.g. a patched copy) to try a fix.
export const wsBin = process.env.WS_BENCH_BIN ?? path.join(repoRoot, "bin", "ws.js");

/** A fresh temp dir outside the repo (not a git repository, so isolation is "none"). */
export function tempDir(label) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ws-bench-${label}-`));
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes `<dir>/workstreams/<id>.json`; `isolation: "none"` so no worktree setup is measured. */
export function writeWorkstream(dir, ws) {
  const folder = path.join(dir, "workstreams");
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${ws.id}.json`);
  fs.writeFileSync(file, JSON.stringify(ws, null, 1));
  return file;
}

export function workstream(id, execution, steps) {
  return {
    id,
    name: id,
    execution: { isolation: "none", timeout_per_step: 0, file_conflicts: "error", ...execution },
    defaults: { tool: "shell", retries: 0 },
    steps,
  };
}

const ms = (hr) => Number(hr) / 1e6;

/**
 * Runs a command to completion. Returns wall time (process.hrtime, spawn to exit), exit code,
 * captured stdout/stderr (when `capture`), and the peak RSS of the process itself, read from
 * /proc/<pid>/status VmHWM (the kernel's high-water mark, so a poll every `pollMs` only needs to
 * see it once before exit; the last value read is the peak up to then).
 */
export function runTimed(command, args, { cwd, env, capture = false, pollRss = false, pollMs = 25 } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", CI: "1", ...env },
      stdio: ["ignore", capture ? "pipe" : "ignore", capture ? "pipe" : "ignore"],
    });
    let stdout = "";
    let stderr = "";
    if (capture) {
      child.stdout.on("data", (c) => (stdout += c));
      child.stderr.on("data", (c) => (stderr += c));
    }
    let hwmKb = 0;
    const poll = () => {
      try {
        const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      } catch {
        // Gone between the exit and the poll: the previous read stands.
      }
    };
    const timer = pollRss ? setInterval(poll, pollMs) : undefined;
    child.on("error", reject);
    child.on("exit", () => {
      // Wall time ends at exit, not at pipe close.
      const wallMs = ms(process.hrtime.bigint() - started);
      if (timer) clearInterval(timer);
      child.once("close", (code, signal) => resolve({ wallMs, code, signal, stdout, stderr, peakRssMb: hwmKb / 1024 }));
    });
    if (pollRss) poll();
  });
}

/** Runs the built ws CLI; throws with its output when the exit code is not the expected one. */
export async function ws(args, { cwd, expectCode = 0, ...rest } = {}) {
  const result = await runTimed(process.execPath, [wsBin, ...args], { cwd, capture: true, ...rest });
  if (result.code !== expectCode) {
    throw new Error(`ws ${args.join(" ")} exited ${result.code} (expected ${expectCode})\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  }
  return result;
}

/**
 * The last run in events.jsonl: `spanMs` is run-start → run-end by their timestamps (the part the
 * scheduler controls), `makespanMs` the run's reported duration (also counts the isolation
 * decision made before run-start), `events` that run's events.
 */
export function readRun(dir, wsId) {
  const lines = fs.readFileSync(path.join(dir, ".worktrees", wsId, "events.jsonl"), "utf8").trim().split("\n");
  const all = lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  const from = all.findLastIndex((e) => e.type === "run-start");
  const events = all.slice(from);
  const start = events[0];
  const end = events.findLast((e) => e.type === "run-end");
  if (!start || !end) throw new Error(`no complete run in ${wsId}'s events.jsonl`);
  return { makespanMs: end.durationMs, spanMs: Date.parse(end.at) - Date.parse(start.at), sequentialMs: end.sequentialMs, events };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function fmtMs(v) {
  if (v === undefined || Number.isNaN(v)) return "n/a";
  return v >= 10_000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

export const fmtX = (v) => `${v.toFixed(2)}×`;
export const goal = (met) => (met ? "met" : "**missed**");

/** mulberry32: a tiny seeded PRNG so every run benchmarks the same graphs. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random DAG over n nodes: node i depends on up to `maxDeps` earlier nodes, picked within a
 * window of `window` predecessors (keeps it layered and long rather than flat). Returns deps[i].
 */
export function randomDag(n, { seed = 1, maxDeps = 3, window = 50 } = {}) {
  const random = rng(seed);
  const deps = [];
  for (let i = 0; i < n; i++) {
    const k = i === 0 ? 0 : Math.floor(random() * (maxDeps + 1));
    const set = new Set();
    for (let j = 0; j < k; j++) set.add(Math.max(0, i - 1 - Math.floor(random() * Math.min(window, i))));
    deps.push([...set].sort((a, b) => a - b));
  }
  return deps;
}

/** Longest weighted path and total work of a DAG given as deps[i] (nodes in topological order). */
export function dagBounds(deps, weights) {
  const finish = [];
  for (let i = 0; i < deps.length; i++) {
    const ready = Math.max(0, ...deps[i].map((d) => finish[d]));
    finish.push(ready + weights[i]);
  }
  return { criticalPath: Math.max(...finish), work: weights.reduce((a, b) => a + b, 0) };
}

export function machine() {
  const cpus = os.cpus();
  let memAvailable = "";
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync("/proc/meminfo", "utf8"));
    if (m) memAvailable = `, ${(Number(m[1]) / 1024 / 1024).toFixed(1)} GiB available at start`;
  } catch {
    // Not Linux: total memory is enough.
  }
  return {
    date: new Date().toISOString(),
    cpus: cpus.length,
    model: cpus[0]?.model ?? "unknown",
    memory: `${(os.totalmem() / 1024 / 1024 / 1024).toFixed(1)} GiB${memAvailable}`,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(", "),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** A Markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * Runs a command under bench/reap.py, which reaps every process the command leaves behind (ws's
 * spawn server outlives ws by a moment, and its forks never reach this process's rusage), and
 * returns { wallMs, cpuMs, code }: wall from spawn to the command's own exit, CPU (user + system)
 * over the whole tree. Without python3, `cpuMs` is undefined and wall comes from runTimed.
 */
export async function runReaped(command, args, { cwd, env, python3 } = {}) {
  if (python3 === undefined) {
    const run = await runTimed(command, args, { cwd, env });
    return { wallMs: run.wallMs, cpuMs: undefined, code: run.code };
  }
  const out = path.join(os.tmpdir(), `ws-bench-reap-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  try {
    const run = await runTimed(python3, [path.join(import.meta.dirname, "reap.py"), out, command, ...args], { cwd, env });
    if (run.code !== 0 && !fs.existsSync(out)) throw new Error(`bench/reap.py exited ${run.code}`);
    const { wallMs, cpuMs, code } = JSON.parse(fs.readFileSync(out, "utf8"));
    return { wallMs, cpuMs, code };
  } finally {
    fs.rmSync(out, { force: true });
  }
}
