// `npm run bench`: runs every benchmark (or `--only a,b`) against the built binary in temp dirs
// outside the repo and writes bench/RESULTS.md (a full run only; `--only` prints to stdout unless
// `--write` is given, or `--update`, which replaces just those benchmarks' sections and goal rows
// in the RESULTS.md there is and says so in its header). Plain ESM, no build step of its own.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fmtMs, machine, repoRoot, wsBin } from "./lib.mjs";
import { overhead } from "./overhead.mjs";
import { seed } from "./seed.mjs";
import { scheduling } from "./scheduling.mjs";
import { validation } from "./validation.mjs";
import { memory } from "./memory.mjs";
import { startup } from "./startup.mjs";
import { scale } from "./scale.mjs";
import { isolation } from "./isolation.mjs";
import { report as reportBench } from "./report.mjs";
import { activity } from "./activity.mjs";
import { deploy } from "./deploy.mjs";
import { python } from "./python.mjs";
import { laneSetup } from "./lane-setup.mjs";

// Quick ones first: a run cut short by the clock still holds the most goals.
const BENCHMARKS = { startup, validation, scale, seed, overhead, memory, scheduling, isolation, deploy, activity, report: reportBench, python, "lane-setup": laneSetup };

function parseArgs(argv) {
  const options = { only: Object.keys(BENCHMARKS), write: undefined, update: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--only") options.only = (argv[++i] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    else if (arg.startsWith("--only=")) options.only = arg.slice(7).split(",").map((s) => s.trim()).filter(Boolean);
    else if (arg === "--write") options.write = true;
    else if (arg === "--update") options.update = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(`usage: node bench/run.mjs [--only ${Object.keys(BENCHMARKS).join(",")}] [--write | --update]`);
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${arg}`);
      process.exit(2);
    }
  }
  const unknown = options.only.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0 || options.only.length === 0) {
    console.error(`bench: unknown benchmark ${unknown.join(", ") || "(none given)"}; choose from ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
  options.write ??= options.only.length === Object.keys(BENCHMARKS).length && !options.update;
  return options;
}

function gitRevision() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

const options = parseArgs(process.argv.slice(2));
if (!fs.existsSync(path.join(repoRoot, "dist", "cli", "main.js"))) {
  console.error("bench: dist/ is missing; run `npm run build` (or `npm run bench`, which builds first)");
  process.exit(2);
}
const info = machine();
const log = (line) => console.error(line);
const sections = [];
const summaries = [];
const started = process.hrtime.bigint();
let report = "";
for (const name of options.only) {
  log(`bench: ${name}`);
  const t0 = process.hrtime.bigint();
  const result = await BENCHMARKS[name]({ log });
  log(`bench: ${name} done in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  sections.push(result.markdown);
  summaries.push(result.summary);
  // Written after every benchmark: on a loaded machine a full run can outlast the time one has,
  // and the finished part is still a result (the header says which benchmarks it holds).
  report = render(Number(process.hrtime.bigint() - started) / 1e9);
  if (options.write) fs.writeFileSync(path.join(import.meta.dirname, "RESULTS.md"), report);
  if (options.update) updateResults(result);
}

/**
 * Puts one benchmark's fresh section and goal row into the RESULTS.md of an earlier full run, so a
 * change measured alone does not need the whole ~20-minute run (nor erase the other figures). The
 * header names what was updated, when and at which revision; the rest stays as that run left it.
 */
function updateResults(result) {
  const file = path.join(import.meta.dirname, "RESULTS.md");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : render(0);
  const lines = text.split("\n");
  const heading = result.markdown.split("\n")[0];
  const number = /^## (\d+)\./.exec(heading)?.[1];
  const isSection = (line) => /^## \d+\./.test(line);
  const start = lines.findIndex((line) => number !== undefined && line.startsWith(`## ${number}.`));
  const section = result.markdown.split("\n").concat([""]);
  if (start >= 0) {
    let end = start + 1;
    while (end < lines.length && !lines[end].startsWith("## ")) end++;
    lines.splice(start, end - start, ...section);
  } else {
    // After the last numbered section (the notes follow them).
    let last = -1;
    lines.forEach((line, i) => isSection(line) && (last = i));
    let at = last + 1;
    while (at < lines.length && !lines[at].startsWith("## ")) at++;
    lines.splice(at, 0, ...section);
  }
  const row = `| ${result.summary.name} | ${headline(result.summary)} | ${result.summary.goalMet ? "met" : "**missed**"} |`;
  const rowAt = lines.findIndex((line) => line.startsWith(`| ${result.summary.name} |`));
  if (rowAt >= 0) lines[rowAt] = row;
  else {
    const table = lines.indexOf("| --- | --- | --- |");
    let at = table + 1;
    while (at < lines.length && lines[at].startsWith("|")) at++;
    lines.splice(at, 0, row);
  }
  const note = `- Updated alone: ${result.summary.name} on ${new Date().toISOString()} at ${gitRevision()} (load average ${machine().loadavg}); the other sections are from the run above`;
  const noteAt = lines.findIndex((line) => line.startsWith(`- Updated alone: ${result.summary.name} `));
  if (noteAt >= 0) lines[noteAt] = note;
  else lines.splice(lines.findIndex((line) => line.startsWith("- Benchmarks:")) + 1, 0, note);
  fs.writeFileSync(file, lines.join("\n"));
  log(`bench: updated ${result.summary.name} in bench/RESULTS.md`);
}

function render(totalS) {
  const notesFile = path.join(import.meta.dirname, "NOTES.md");
  const notes = fs.existsSync(notesFile) ? fs.readFileSync(notesFile, "utf8").trim() : "";
  const done = summaries.map((s) => s.name);
  return [
    "# ws benchmarks",
    "",
    "Generated by `npm run bench` (`node bench/run.mjs`); do not edit by hand — the analysis lives in bench/NOTES.md and is appended below.",
    "",
    `- Date: ${info.date}`,
    `- Machine: ${info.cpus} × ${info.model}, ${info.memory}; ${info.os}; load average at start ${info.loadavg}, at the end ${machine().loadavg}`,
    `- Node: ${info.node}; ws at ${gitRevision()}${wsBin.startsWith(repoRoot) ? "" : ` (binary ${wsBin})`}`,
    `- Benchmarks: ${done.join(", ")}${done.length < options.only.length ? ` (partial: ${options.only.filter((n) => !done.includes(n)).join(", ")} not run yet)` : ""}; total ${totalS.toFixed(0)} s`,
    "",
    "**Noise:** this machine has 2 cores shared with other engineers running test suites at the same time, so absolute figures are noisy (several × between runs); figures are medians of interleaved runs, and ratios taken within one benchmark are more trustworthy than absolute times.",
    "",
    "## Goals",
    "",
    "| benchmark | result | goal |",
    "| --- | --- | --- |",
    ...summaries.map((s) => `| ${s.name} | ${headline(s)} | ${s.goalMet ? "met" : "**missed**"} |`),
    "",
    ...sections.flatMap((s) => [s, ""]),
    notes,
    "",
  ].join("\n");
}

function fmtRatio(v) {
  return v === undefined || Number.isNaN(v) ? "n/a" : `${v.toFixed(2)}×`;
}

function headline(s) {
  switch (s.name) {
    case "overhead":
      return `ws ${fmtMs(s.wsMs)} = ${fmtRatio(s.ratio)} make -j2 (≤ 2.5×, stretch 1.5×), ${fmtRatio(s.wireitRatio)} wireit (≤ 0.5×), ${fmtRatio(s.wsMs / s.ninjaMs)} ninja -j2; CPU over all its processes ${s.wsCpuMs === undefined ? "n/a" : `${(s.wsCpuMs / s.steps).toFixed(2)} ms`} a step, wall ${(s.wsMs / s.steps).toFixed(2)} ms; WS_SPAWN=perl ${fmtRatio(s.perlMs / s.wsMs)} the wall, WS_SPAWN=direct ${fmtRatio(s.otherMs / s.wsMs)} the wall, ${s.otherCpuMs === undefined || s.wsCpuMs === undefined ? "n/a" : fmtRatio(s.otherCpuMs / s.wsCpuMs)} the CPU`;
    case "seed":
      return `speedup ${s.speedup.toFixed(2)}× (≥ 3.6×)`;
    case "scheduling":
      return `makespan / bound ${s.ratio.toFixed(2)}× (≤ 1.05); critical path ${(s.gain * 100).toFixed(0)} % shorter than FIFO (≥ 15 %)`;
    case "validation":
      return `10 000 steps: ${s.ratio10k.toFixed(2)}× node -e 0 (≤ 5×); 100 000 steps: ${(s.ms100k / 1000).toFixed(2)} s (< 5 s)`;
    case "memory":
      return `500 MB of output: ${s.floodMb.toFixed(0)} MB peak (≤ 60 MB); 1000 steps: ${s.runMb.toFixed(0)} MB (≤ 70 MB)`;
    case "scale":
      return `50 000 steps: run --only ${Math.round(s.runMs)} ms (cpu ${fmtMs(s.runCpuMs)}), status ${Math.round(s.statusMs)} ms (cpu ${fmtMs(s.statusCpuMs)}) (each < 2000 ms); validate alone ${Math.round(s.validateMs)} ms`;
    case "startup":
      return `--help ${s.help.toFixed(2)}× node -e 0 (≤ 1.3×); ws status ${s.status.toFixed(2)}× (≤ 1.5×); one-step run ${s.runRatio.toFixed(2)}× (≤ 2×)`;
    case "isolation":
      return Object.entries(s.perStep).filter(([m]) => m !== "none").map(([m, v]) => `${m} ${v >= 0 ? "+" : ""}${fmtMs(v)} a step`).join(", ") + " over running in place (measured, no goal)";
    case "deploy":
      return `deploy demo in a git repository ${fmtMs(s.gitMs)} = ${fmtRatio(s.vsPath)} its ${fmtMs(s.pathMs)} critical path (≤ 1.15×), ${fmtRatio(s.paired)} in place (≤ 1.1×); hop ${fmtMs(s.hopMs)}, tail ${fmtMs(s.tailMs)} (each ≤ 30 ms)`;
    case "report":
      return `1000-step run's HTML report ${fmtMs(s.htmlMs)} (< 1 s), ${(s.htmlBytes / 1024).toFixed(0)} KiB (< 2 MB), ${fmtRatio(s.ratio)} ws status; trace ${(s.traceBytes / 1024).toFixed(0)} KiB`;
    case "activity":
      return `parsing ${s.worstUsPerLine.toFixed(2)} µs a line at most (in process); a chatty claude step ${s.perCallMs.toFixed(3)} ms of CPU a tool call over all processes (measured, no goal)`;
    case "python":
      return `examples/python-ci's checks: ws ${fmtRatio(s.ratio)} make -j2 (≤ 1.1×; make ${fmtMs(s.makeMs)}; ws run-start to run-end ${fmtMs(s.spanMs)}), one after another ${fmtRatio(s.sequential)}`;
    case "lane-setup":
      return s.skipped ? "skipped: the npm registry is unreachable" : `4 lanes, npm ci: 4th step starts at ${fmtRatio(s.ratio)} one npm ci on a first run (≤ 1.3×), after ${fmtMs(s.secondMs)} on the second (≤ 2 s)`;
    default:
      return "";
  }
}

if (options.write) log(`bench: wrote bench/RESULTS.md (${((Number(process.hrtime.bigint() - started)) / 1e9).toFixed(0)} s)`);
else if (!options.update) console.log(report);
