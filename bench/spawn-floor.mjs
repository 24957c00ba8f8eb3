// The floor for the overhead benchmark: Node spawning N no-op processes, `concurrency` at a time,
// the way ws spawns a step (own process group, stdin closed, stdout/stderr piped and read), with
// nothing else around it: no graph, no logs, no events.
// Usage: node bench/spawn-floor.mjs <n> <concurrency> <command> [args...]
import { spawn } from "node:child_process";

const [n, concurrency, command, ...args] = process.argv.slice(2);
const total = Number(n);
let started = 0;

function one() {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

async function worker() {
  while (started < total) {
    started++;
    await one();
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, worker));
