// Preloaded into ws by the memory benchmark (`node --import ./bench/memory-probe.mjs bin/ws.js ...`): the
// largest value each part of process.memoryUsage() reached, sampled every 10 ms, written as JSON to
// $WS_BENCH_MEMORY_PROBE at exit. It splits the peak RSS into the V8 heap (the young generation
// is part of heapTotal), memory outside it (Buffers: external, arrayBuffers), and the rest (Node's
// code and its own allocations).
import fs from "node:fs";
import { setInterval } from "node:timers";

const out = process.env.WS_BENCH_MEMORY_PROBE;
if (out) {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], now[key]);
  };
  setInterval(sample, 10).unref();
  process.on("exit", () => {
    sample();
    fs.writeFileSync(out, JSON.stringify(peak));
  });
}
