// 5. Memory: peak RSS of the ws process (VmHWM, polled from /proc) while one step prints 500 MB,
// and during a 1000-step no-op run.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { fmtMs, goal, randomDag, readRun, removeDir, runTimed, table, tempDir, workstream, writeWorkstream, wsBin } from "./lib.mjs";

const GOAL_MB = 60;
const FLOOD_BYTES = 500_000_000;

export async function memory({ log }) {
  const dir = tempDir("memory");
  try {
    // 500 MB of 64-byte lines, and the same amount with no newline at all (one endless line).
    const line = "x".repeat(63);
    writeWorkstream(dir, workstream("ws-bench-flood", { max_workers: 1 }, [{ id: "flood", run: `yes ${line} | head -c ${FLOOD_BYTES}` }]));
    writeWorkstream(dir, workstream("ws-bench-flood-1line", { max_workers: 1 }, [{ id: "flood", run: `head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x` }]));
    const deps = randomDag(1000, { seed: 42, maxDeps: 3, window: 40 });
    const name = (i) => `s${String(i).padStart(4, "0")}`;
    writeWorkstream(dir, workstream("ws-bench-one", { max_workers: 1 }, [{ id: "flood", run: "true" }]));
    writeWorkstream(dir, workstream("ws-bench-1000", { max_workers: 2 }, deps.map((ds, i) => ({ id: name(i), run: "true", depends_on: ds.map(name) }))));
    const node = await runTimed(process.execPath, ["-e", "0"], { pollRss: true, pollMs: 5 });

    const rows = [];
    const parts = [];
    const peaks = {};
    const probe = path.join(dir, "probe.json");
    const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
    for (const [id, label] of [
      ["ws-bench-one", "one no-op step (what any run starts from)"],
      ["ws-bench-flood", "one step prints 500 MB (64-byte lines)"],
      ["ws-bench-flood-1line", "one step prints 500 MB with no newline"],
      ["ws-bench-1000", "1000 no-op steps, 2 workers"],
    ]) {
      const run = await runTimed(process.execPath, [wsBin, "run", "--ws-id", id], { cwd: dir, pollRss: true, capture: true });
      if (run.code !== 0) throw new Error(`ws run ${id} exited ${run.code}\n${run.stderr.slice(-2000)}`);
      const logFile = path.join(dir, ".worktrees", id, "steps", "flood", "attempt-1.log");
      const logged = fs.existsSync(logFile) ? fs.statSync(logFile).size : undefined;
      peaks[id] = run.peakRssMb;
      rows.push([label, `${run.peakRssMb.toFixed(0)} MB`, fmtMs(readRun(dir, id).makespanMs), logged === undefined ? "" : `${(logged / 1e6).toFixed(0)} MB`, id === "ws-bench-1000" ? "" : goal(run.peakRssMb <= GOAL_MB)]);
      log(`  memory: ${id} peak ${run.peakRssMb.toFixed(0)} MB`);
      // Again with the probe preloaded: what the peak is made of (a second run; the probe costs a little).
      removeDir(path.join(dir, ".worktrees", id));
      const probed = await runTimed(process.execPath, ["--import", pathToFileURL(path.join(import.meta.dirname, "memory-probe.mjs")).href, wsBin, "run", "--ws-id", id], { cwd: dir, env: { WS_BENCH_MEMORY_PROBE: probe } });
      if (probed.code !== 0) throw new Error(`ws run ${id} (probed) exited ${probed.code}`);
      const p = JSON.parse(fs.readFileSync(probe, "utf8"));
      parts.push([label, mb(p.rss), mb(p.heapTotal), mb(p.heapUsed), mb(p.external), mb(p.arrayBuffers)]);
      // The flood logs are 500 MB each: don't keep them around.
      removeDir(path.join(dir, ".worktrees", id));
    }
    const worstFlood = Math.max(peaks["ws-bench-flood"], peaks["ws-bench-flood-1line"]);
    const md = [
      "## 5. Memory",
      "",
      `Peak RSS of the ws process itself (VmHWM from /proc/<pid>/status, the kernel's high-water mark, read every 25 ms until exit); the step's own processes are not counted. For scale: \`node -e 0\` peaks at ${node.peakRssMb.toFixed(0)} MB.`,
      "",
      table(["run", "peak RSS", "run duration", "step log size", `goal ≤ ${GOAL_MB} MB`], rows),
      "",
      "What the peak is made of: the largest value each part of `process.memoryUsage()` reached, sampled every 10 ms by a preload (bench/memory-probe.mjs) in a second run. heapTotal is V8's heap (the young generation included); external and arrayBuffers are memory outside it (Buffers, read buffers); what RSS holds beyond those is Node's code and its own allocations, which `node -e 0` already has.",
      "",
      table(["run", "RSS", "heapTotal", "heapUsed", "external", "arrayBuffers"], parts),
    ];
    return { markdown: md.join("\n"), summary: { name: "memory", floodMb: worstFlood, runMb: peaks["ws-bench-1000"], goalMet: worstFlood <= GOAL_MB } };
  } finally {
    removeDir(dir);
  }
}
