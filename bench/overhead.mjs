// 1. Overhead: 1000 no-op shell steps on a random DAG, 2 workers, against its peers on the same
// graph in the same rounds (make -j2, ninja -j2, wireit with WIREIT_PARALLEL=2), ws on its other
// spawn paths (WS_SPAWN=perl, WS_SPAWN=direct), the floor of Node spawning the same 1000 processes, and the layers
// under `ws run` (bench/layers.mjs): the spawn server alone, then ws's process layer, so the gap
// to make is split by what each layer adds. Every contender runs under bench/reap.py, so its CPU
// counts every process it started, the ones that outlive it included (the spawn server).
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, randomDag, readRun, removeDir, runReaped, table, tempDir, workstream, writeWorkstream, wsBin } from "./lib.mjs";
import { findPeers, WIREIT_VERSION, writeWireitProject } from "./peers.mjs";

const STEPS = 1000;
const WORKERS = 2;
const REPEAT = 3;
/** Issue 32: ≤ 2.5× make (stretch 1.5×), ≤ 0.5× wireit. */
const GOAL = 2.5;
const STRETCH = 1.5;
const WIREIT_GOAL = 0.5;
/** The spawn paths ws does not take by default, run alongside. */
const OTHER_SPAWN = "direct";
const FALLBACK_SERVER = "perl";

const perStep = (ms) => (ms === undefined || Number.isNaN(ms) ? "n/a" : `${(ms / STEPS).toFixed(2)} ms`);

export async function overhead({ log }) {
  const deps = randomDag(STEPS, { seed: 42, maxDeps: 3, window: 40 });
  const name = (i) => `s${String(i).padStart(4, "0")}`;
  const dir = tempDir("overhead");
  try {
    const id = "ws-bench-overhead";
    writeWorkstream(dir, workstream(id, { max_workers: WORKERS }, deps.map((ds, i) => ({ id: name(i), run: "true", depends_on: ds.map(name) }))));
    // Same graph for make: phony targets (always run), one recipe each, no echo.
    const makefile = [
      `.PHONY: all ${deps.map((_, i) => name(i)).join(" ")}`,
      `all: ${deps.map((_, i) => name(i)).join(" ")}`,
      ...deps.map((ds, i) => `${name(i)}: ${ds.map(name).join(" ")}\n\t@true`),
      "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "Makefile"), makefile);
    // And for ninja: outputs never written, so every build runs every edge (like make's phony targets).
    const ninja = [
      "rule t",
      "  command = true",
      ...deps.map((ds, i) => `build ${name(i)}: t${ds.length > 0 ? ` | ${ds.map(name).join(" ")}` : ""}`),
      `default ${deps.map((_, i) => name(i)).join(" ")}`,
      "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "build.ninja"), ninja);

    const peers = findPeers(log);
    if (typeof peers.wireit === "string") writeWireitProject(dir, peers.wireit, deps.map((_, i) => name(i)), deps);
    const python3 = typeof peers.python3 === "string" ? peers.python3 : undefined;
    const skipped = Object.values(peers).filter((p) => typeof p !== "string").map((p) => p.skip);

    // name → { wall: [], cpu: [] }, in table order.
    const runs = new Map();
    const record = (key, run) => {
      if (run.code !== 0) throw new Error(`${key} exited ${run.code}`);
      const entry = runs.get(key) ?? { wall: [], cpu: [] };
      entry.wall.push(run.wallMs);
      entry.cpu.push(run.cpuMs);
      runs.set(key, entry);
      return run;
    };
    const wsEngine = [];
    const node = process.execPath;
    const wsRun = async (env) => {
      removeDir(path.join(dir, ".worktrees"));
      return runReaped(node, [wsBin, "run", "--ws-id", id], { cwd: dir, env, python3 });
    };
    const layer = async (which, env) => {
      removeDir(path.join(dir, "steps"));
      return runReaped(node, [path.join(import.meta.dirname, "layers.mjs"), which, String(STEPS), String(WORKERS), dir, "true"], { env, python3 });
    };
    for (let r = 0; r < REPEAT; r++) {
      // Interleaved, so a burst of load from the other engineers hits every contender alike.
      record("ws", await wsRun({ WS_SPAWN: "" }));
      wsEngine.push(readRun(dir, id).makespanMs);
      record("wsPerl", await wsRun({ WS_SPAWN: FALLBACK_SERVER }));
      record("wsOther", await wsRun({ WS_SPAWN: OTHER_SPAWN }));
      if (typeof peers.make === "string") record("make", await runReaped(peers.make, ["-s", `-j${WORKERS}`, "-f", "Makefile", "all"], { cwd: dir, python3 }));
      if (typeof peers.ninja === "string") record("ninja", await runReaped(peers.ninja, ["-j", String(WORKERS), "--quiet"], { cwd: dir, python3 }));
      if (typeof peers.wireit === "string") {
        removeDir(path.join(dir, ".wireit"));
        record("wireit", await runReaped("npm", ["run", "--silent", "all"], { cwd: dir, env: { WIREIT_PARALLEL: String(WORKERS), WIREIT_CACHE: "none", WIREIT_LOGGER: "quiet-ci" }, python3 }));
      }
      record("floor", await runReaped(node, [path.join(import.meta.dirname, "spawn-floor.mjs"), String(STEPS), String(WORKERS), "true"], { python3 }));
      record("floorSh", await runReaped(node, [path.join(import.meta.dirname, "spawn-floor.mjs"), String(STEPS), String(WORKERS), "/bin/sh", "-c", "true"], { python3 }));
      record("server", await layer("server", { WS_SPAWN: "" }));
      record("serverPerl", await layer("server", { WS_SPAWN: FALLBACK_SERVER }));
      record("process", await layer("process", { WS_SPAWN: "" }));
      log(`  overhead round ${r + 1}/${REPEAT}: ${[...runs].map(([k, v]) => `${k} ${fmtMs(v.wall.at(-1))}`).join(", ")}`);
    }
    const wall = (key) => (runs.has(key) ? median(runs.get(key).wall) : undefined);
    const cpu = (key) => (runs.has(key) && runs.get(key).cpu.every((c) => c !== undefined) ? median(runs.get(key).cpu) : undefined);
    const ws_ = wall("ws");
    const make = wall("make");
    const wireit = wall("wireit");
    const ratio = make === undefined ? NaN : ws_ / make;
    const wireitRatio = wireit === undefined ? NaN : ws_ / wireit;
    const vs = (v, base) => (v === undefined || base === undefined ? "n/a" : fmtX(v / base));
    // "b +x ms over a" for each layer over the one below it.
    const hops = (layers) => layers.slice(1).map(([name, v], i) => `${name} ${perStep(v - layers[i][1])} over ${i === 0 ? "make" : "that"}`).join(", ");
    const edges = deps.reduce((s, d) => s + d.length, 0);
    const labels = {
      ws: `\`ws run\` (max_workers ${WORKERS}, default spawn path: the python spawn server starts each step with posix_spawn)`,
      wsPerl: `\`ws run\` with \`WS_SPAWN=${FALLBACK_SERVER}\` (the perl spawn server forks each step)`,
      wsOther: `\`ws run\` with \`WS_SPAWN=${OTHER_SPAWN}\` (Node spawns each step)`,
      make: `\`make -j${WORKERS}\` (same graph)`,
      ninja: `\`ninja -j${WORKERS}\` (same graph)`,
      wireit: `wireit ${WIREIT_VERSION} (\`npm run all\`, WIREIT_PARALLEL=${WORKERS}, same graph)`,
      floor: `floor: Node spawning ${STEPS} × \`true\`, ${WORKERS} at a time`,
      floorSh: `floor: Node spawning ${STEPS} × \`/bin/sh -c true\``,
      server: `layer: ws's default spawn server alone (python, posix_spawn), ${STEPS} × \`true\` (launch, both streams to EOF, exit)`,
      serverPerl: `layer: the perl spawn server alone (fork), the same`,
      process: `layer: ws's process layer on the default path (\`runProcess\`: step folder, log, tail, cookie, sweep)`,
    };
    const rows = [];
    for (const [key, label] of Object.entries(labels)) {
      if (!runs.has(key)) continue;
      rows.push([label, fmtMs(wall(key)), perStep(wall(key)), perStep(cpu(key)), vs(wall(key), make), vs(wall(key), wireit)]);
      if (key === "ws") rows.push([`  of which the run (ws's own duration)`, fmtMs(median(wsEngine)), perStep(median(wsEngine)), "", "", ""]);
    }
    const wsCpu = cpu("ws");
    const met = ratio <= GOAL && !(wireitRatio > WIREIT_GOAL);
    const md = [
      `## 1. Overhead: ${STEPS} no-op steps, random DAG (${edges} edges), ${WORKERS} workers`,
      "",
      `Median of ${REPEAT}, runs interleaved. Wall: the whole process (start-up included), spawn to its own exit. CPU: user + system time of every process the contender started, the ones that outlive it included (bench/reap.py reaps them as a child subreaper: ws's spawn server is detached and never waited for by ws, so \`/usr/bin/time\` would miss its forks).${python3 === undefined ? " **python3 not installed (apt-get install python3): CPU not counted.**" : ""}`,
      ...(skipped.length > 0 ? ["", ...skipped.map((s) => `- skipped: ${s}`)] : []),
      "",
      table(["contender", "median wall", "wall per step", "CPU per step (all processes)", "vs make", "vs wireit"], rows),
      "",
      `ws / make = **${fmtX(ratio)}** (goal ≤ ${GOAL}×, stretch ${STRETCH}×): ${goal(ratio <= GOAL)}${ratio <= STRETCH ? ", stretch met" : ""}; ws / wireit = **${Number.isNaN(wireitRatio) ? "n/a" : fmtX(wireitRatio)}** (goal ≤ ${WIREIT_GOAL}×): ${Number.isNaN(wireitRatio) ? "not measured" : goal(wireitRatio <= WIREIT_GOAL)}; ws / ninja = ${vs(ws_, wall("ninja"))}. ws's wall ${perStep(ws_)} a step against ${perStep(wsCpu)} of CPU over every process it starts (${wsCpu === undefined ? "n/a" : ws_ <= wsCpu ? "wall ≤ CPU: met" : "wall > CPU: **missed**, time spent waiting"}); against the default path, \`WS_SPAWN=${FALLBACK_SERVER}\` takes ${vs(wall("wsPerl"), ws_)} the wall and ${vs(cpu("wsPerl"), wsCpu)} the CPU, \`WS_SPAWN=${OTHER_SPAWN}\` ${vs(wall("wsOther"), ws_)} the wall and ${vs(cpu("wsOther"), wsCpu)} the CPU.`,
      "",
      `Where the gap to make goes, per step, hop by hop (the layers ignore the graph: ${STEPS} independent processes, ${WORKERS} at a time): ${hops([["make", make], ["the spawn server alone", wall("server")], ["ws's process layer", wall("process")], ["the engine (start-up, validation, scheduling, events, the fold, state.json, the reporter)", ws_]])}. For comparison, Node's own spawn of \`true\` is ${perStep(wall("floor") - make)} over make, of \`/bin/sh -c true\` ${perStep(wall("floorSh") - make)}.`,
      "",
      `All runs (wall ms / CPU ms): ${[...runs].map(([k, v]) => `${k} ${v.wall.map((w, i) => `${Math.round(w)}/${v.cpu[i] === undefined ? "n/a" : Math.round(v.cpu[i])}`).join(", ")}`).join("; ")}.`,
    ];
    return {
      markdown: md.join("\n"),
      summary: { name: "overhead", ratio, goalMet: met, wsMs: ws_, wsCpuMs: wsCpu, makeMs: make, ninjaMs: wall("ninja"), wireitMs: wireit, wireitRatio, otherMs: wall("wsOther"), otherCpuMs: cpu("wsOther"), perlMs: wall("wsPerl"), perlCpuMs: cpu("wsPerl"), serverPerlMs: wall("serverPerl"), steps: STEPS, floorMs: wall("floor"), floorShMs: wall("floorSh"), serverMs: wall("server"), processMs: wall("process") },
    };
  } finally {
    removeDir(dir);
  }
}
