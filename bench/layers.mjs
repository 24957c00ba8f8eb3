// The layers under `ws run`, for the overhead benchmark: ws's own modules (dist/) driving N no-op
// processes, `concurrency` at a time, with nothing of the engine around them. The gap between two
// layers is what the upper one adds per step.
//   server:  the spawn server WS_SPAWN selects, alone (not with WS_SPAWN=direct): launch, read both streams to EOF,
//            wait for the exit.
//   process: runProcess as the engine calls it, on the spawn path WS_SPAWN selects: the step's folder, its log, the FIFOs, the tail,
//            the attempt's cookie and the escaped-process sweep after it ends.
// Usage: node bench/layers.mjs <server|process> <n> <concurrency> <dir> <command> [args...]
import fs from "node:fs";
import path from "node:path";

const [layer, n, concurrency, dir, command, ...args] = process.argv.slice(2);
const dist = path.join(import.meta.dirname, "..", "dist");
const { spawnServer } = await import(path.join(dist, "proc", "spawn-server.js"));
const { runProcess } = await import(path.join(dist, "proc", "run-process.js"));
const { findOnPath } = await import(path.join(dist, "tools", "binary.js"));

const total = Number(n);
const env = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
const program = command.includes("/") ? command : findOnPath(command, env);
const server = layer === "server" ? spawnServer() : undefined;
if (layer === "server" && server === undefined) throw new Error("no spawn server here (not Linux, no python3 nor perl, or WS_SPAWN=direct)");

async function viaServer() {
  const launched = await server.launch({ command, args, cwd: dir, env }, program);
  if (launched === undefined) throw new Error("the spawn server refused the job");
  let open = 2;
  const drained = new Promise((resolve) => {
    for (const stream of [launched.stdout, launched.stderr]) {
      stream.on("end", () => --open === 0 && resolve());
      stream.resume();
    }
  });
  const [[code]] = await Promise.all([launched.exit, drained]);
  launched.release(true);
  if (code !== 0) throw new Error(`${command} exited ${code}`);
}

async function viaRunProcess(i) {
  const stepDir = path.join(dir, "steps", `s${i}`);
  fs.mkdirSync(stepDir, { recursive: true });
  const result = await runProcess({ command, args, cwd: dir, env: {}, inherit: env, logFile: path.join(stepDir, "attempt-1.log"), contain: { mark: `bench:s${i}:1` } });
  if (result.exitCode !== 0) throw new Error(`${command} exited ${result.exitCode}`);
}

let started = 0;
async function worker() {
  while (started < total) {
    const i = started++;
    await (layer === "server" ? viaServer() : viaRunProcess(i));
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, worker));
