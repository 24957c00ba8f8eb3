// 1. Overhead: 1000 no-op shell steps on a random DAG, 2 workers, against make -j2 and ninja -j2
// on the same graph, ws with its spawn server turned off (WS_SPAWN=direct), the floor of Node
// spawning the same 1000 processes, and the layers under `ws run` (bench/layers.mjs): the spawn
// server alone, then ws's process layer, so the gap to make is split by what each layer adds.
import fs from "node:fs";
import path from "node:path";
import { fmtMs, fmtX, goal, median, randomDag, readRun, removeDir, runTimed, table, tempDir, workstream, writeWorkstream, ws } from "./lib.mjs";

const STEPS = 1000;
const WORKERS = 2;
const REPEAT = 3;
const GOAL = 1.2;

const perStep = (ms) => `${(ms / STEPS).toFixed(2)} ms`;

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

    const wsWall = [];
    const wsEngine = [];
    const makeWall = [];
    const ninjaWall = [];
    const directWall = [];
    const floorWall = [];
    const floorShWall = [];
    const serverWall = [];
    const processWall = [];
    const layer = async (name) => {
      removeDir(path.join(dir, "steps"));
      return (await runTimed(process.execPath, [path.join(import.meta.dirname, "layers.mjs"), name, String(STEPS), String(WORKERS), dir, "true"])).wallMs;
    };
    for (let r = 0; r < REPEAT; r++) {
      // Interleaved, so a burst of load from the other engineers hits every contender alike.
      removeDir(path.join(dir, ".worktrees"));
      const run = await ws(["run", "--ws-id", id], { cwd: dir });
      wsWall.push(run.wallMs);
      wsEngine.push(readRun(dir, id).makespanMs);
      const make = await runTimed("make", ["-s", `-j${WORKERS}`, "-f", "Makefile", "all"], { cwd: dir });
      if (make.code !== 0) throw new Error(`make exited ${make.code}`);
      makeWall.push(make.wallMs);
      const nj = await runTimed("ninja", ["-j", String(WORKERS), "--quiet"], { cwd: dir });
      if (nj.code !== 0) throw new Error(`ninja exited ${nj.code}`);
      ninjaWall.push(nj.wallMs);
      removeDir(path.join(dir, ".worktrees"));
      directWall.push((await ws(["run", "--ws-id", id], { cwd: dir, env: { WS_SPAWN: "direct" } })).wallMs);
      floorWall.push((await runTimed(process.execPath, [path.join(import.meta.dirname, "spawn-floor.mjs"), String(STEPS), String(WORKERS), "true"])).wallMs);
      floorShWall.push((await runTimed(process.execPath, [path.join(import.meta.dirname, "spawn-floor.mjs"), String(STEPS), String(WORKERS), "/bin/sh", "-c", "true"])).wallMs);
      serverWall.push(await layer("server"));
      processWall.push(await layer("process"));
      log(`  overhead round ${r + 1}/${REPEAT}: ws ${fmtMs(wsWall.at(-1))}, ws direct ${fmtMs(directWall.at(-1))}, make ${fmtMs(makeWall.at(-1))}, ninja ${fmtMs(ninjaWall.at(-1))}, node spawn ${fmtMs(floorWall.at(-1))}, server ${fmtMs(serverWall.at(-1))}, process layer ${fmtMs(processWall.at(-1))}`);
    }
    const ws_ = median(wsWall);
    const make = median(makeWall);
    const ninjaMs = median(ninjaWall);
    const direct = median(directWall);
    const floor = median(floorWall);
    const floorSh = median(floorShWall);
    const server = median(serverWall);
    const processLayer = median(processWall);
    const ratio = ws_ / make;
    const edges = deps.reduce((s, d) => s + d.length, 0);
    const md = [
      `## 1. Overhead: ${STEPS} no-op steps, random DAG (${edges} edges), ${WORKERS} workers`,
      "",
      `Median of ${REPEAT}, wall time of the whole process (start-up included), runs interleaved.`,
      "",
      table(
        ["contender", "median wall", "per step", "vs make"],
        [
          [`\`ws run\` (max_workers ${WORKERS})`, fmtMs(ws_), `${(ws_ / STEPS).toFixed(2)} ms`, fmtX(ratio)],
          [`  of which the run (ws's own duration)`, fmtMs(median(wsEngine)), `${(median(wsEngine) / STEPS).toFixed(2)} ms`, ""],
          [`\`ws run\` with \`WS_SPAWN=direct\` (Node spawns each step)`, fmtMs(direct), `${(direct / STEPS).toFixed(2)} ms`, fmtX(direct / make)],
          [`\`make -j${WORKERS}\` (same graph)`, fmtMs(make), `${(make / STEPS).toFixed(2)} ms`, "1.00×"],
          [`\`ninja -j${WORKERS}\` (same graph)`, fmtMs(ninjaMs), `${(ninjaMs / STEPS).toFixed(2)} ms`, fmtX(ninjaMs / make)],
          [`floor: Node spawning ${STEPS} × \`true\`, ${WORKERS} at a time`, fmtMs(floor), `${(floor / STEPS).toFixed(2)} ms`, fmtX(floor / make)],
          [`floor: Node spawning ${STEPS} × \`/bin/sh -c true\``, fmtMs(floorSh), `${(floorSh / STEPS).toFixed(2)} ms`, fmtX(floorSh / make)],
          [`layer: ws's spawn server alone, ${STEPS} × \`true\` (launch, both streams to EOF, exit)`, fmtMs(server), `${(server / STEPS).toFixed(2)} ms`, fmtX(server / make)],
          [`layer: ws's process layer (\`runProcess\`: step folder, log, FIFOs, tail, cookie, sweep)`, fmtMs(processLayer), `${(processLayer / STEPS).toFixed(2)} ms`, fmtX(processLayer / make)],
        ],
      ),
      "",
      `ws / make = **${fmtX(ratio)}** (goal ≤ ${GOAL}×): ${goal(ratio <= GOAL)}; ws / ninja = ${fmtX(ws_ / ninjaMs)}; the spawn server against direct spawning: ${fmtX(direct / ws_)} faster. ws above the Node /bin/sh floor: ${fmtMs(ws_ - floorSh)} (${((ws_ - floorSh) / STEPS).toFixed(2)} ms per step).`,
      "",
      `Where the gap to make goes, per step (the layers ignore the graph: ${STEPS} independent processes, ${WORKERS} at a time): the spawn server ${perStep(server - make)} over make, the process layer ${perStep(processLayer - server)} over the server, the engine (start-up, validation, scheduling, events, the fold, state.json, the reporter) ${perStep(ws_ - processLayer)} over the process layer.`,
      "",
      `All runs (ms): ws ${wsWall.map(Math.round).join(", ")}; ws direct ${directWall.map(Math.round).join(", ")}; ninja ${ninjaWall.map(Math.round).join(", ")}; make ${makeWall.map(Math.round).join(", ")}; floor ${floorWall.map(Math.round).join(", ")}; floor sh ${floorShWall.map(Math.round).join(", ")}; server ${serverWall.map(Math.round).join(", ")}; process layer ${processWall.map(Math.round).join(", ")}.`,
    ];
    return { markdown: md.join("\n"), summary: { name: "overhead", ratio, goalMet: ratio <= GOAL, wsMs: ws_, makeMs: make, ninjaMs, directMs: direct, floorMs: floor, floorShMs: floorSh, serverMs: server, processMs: processLayer } };
  } finally {
    removeDir(dir);
  }
}
