// 9. Activity parsing: what reading an agent's stream costs ws. In process: each adapter's
// parser fed a chatty agent's stream the way the engine feeds it (onLine, takeActivity and
// usageSoFar after every line; the pace per attempt), CPU per line and per activity event.
// End to end: `ws run` of one claude step whose fake streams 2000 tool calls, against the same
// step with one call: the extra CPU over every process (ws and the fake) per call.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { fmtMs, median, removeDir, repoRoot, runReaped, table, tempDir, writeWorkstream, wsBin } from "./lib.mjs";

const LINES = 20_000;
const ROUNDS = 5;
const CALLS = 2000;

const dist = (file) => import(pathToFileURL(path.join(repoRoot, "dist", file)).href);

/** Per tool: a few lines of a chatty agent's stream in its CLI's own format (as the real ones print them). */
function streams() {
  const json = (e) => JSON.stringify(e);
  const usage = { input_tokens: 1200, cache_creation_input_tokens: 0, cache_read_input_tokens: 800, output_tokens: 90 };
  return {
    claude: (n) => [
      json({ type: "assistant", message: { id: `msg_${n}`, model: "claude-sonnet-4-5-20250929", content: [{ type: "tool_use", id: `t${n}`, name: "Edit", input: { file_path: `/w/src/file-${n % 50}.ts`, old_string: "a".repeat(200), new_string: "b".repeat(200) } }], usage } }),
      json({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: `t${n}`, content: "The file has been updated. " + "x".repeat(300) }] } }),
    ],
    codex: (n) => [
      json({ type: "item.started", item: { id: `item_${n}`, type: "command_execution", command: `/bin/bash -lc 'npm test -- file-${n % 50}'`, aggregated_output: "", exit_code: null, status: "in_progress" } }),
      json({ type: "item.completed", item: { id: `item_${n}`, type: "command_execution", command: `/bin/bash -lc 'npm test -- file-${n % 50}'`, aggregated_output: "ok ".repeat(100), exit_code: 0, status: "completed" } }),
    ],
    gemini: (n) => [
      json({ type: "tool_use", timestamp: "2026-12-06T20:00:00.000Z", tool_name: "replace", tool_id: `c${n}`, parameters: { file_path: `/w/src/file-${n % 50}.ts`, old_string: "a".repeat(200), new_string: "b".repeat(200) } }),
      json({ type: "tool_result", timestamp: "2026-12-06T20:00:00.000Z", tool_id: `c${n}`, status: "success", output: "x".repeat(300) }),
    ],
    aider: (n) => [`Applied edit to src/file-${n % 50}.py`, `Tokens: 12k sent, 1.2k cache hit, 250 received. Cost: $0.01 message, $${(n * 0.01).toFixed(2)} session.`],
    custom: (n) => [`[${n}] working on src/file-${n % 50}.ts: ${"x".repeat(60)}`],
  };
}

async function parserFor(tool) {
  const { adapterFor } = await dist("tools/registry.js");
  const step = { id: "s", tool, model: undefined, env: {}, budget: {}, fileScope: [], readOnly: [], tasks: [], acceptanceTests: [] };
  const ws = { tools: { custom: { command: "custom", args: [], env: {} } }, defaults: { model: tool === "codex" ? "gpt-5" : undefined }, steps: [step] };
  const ctx = { workstream: ws, step, cwd: "/w", attempt: 1, stepDir: "/nonexistent", env: {}, now: Date.now };
  return adapterFor(ws, tool).parser(ctx);
}

/** CPU (user + system) of feeding LINES lines through a parser as the engine does, and how many activities came out. */
async function feed(tool, lines, withPace) {
  const { ActivityPace } = await dist("engine/activity-pace.js");
  const parser = await parserFor(tool);
  let events = 0;
  const pace = new ActivityPace(() => {
    events += 1;
    parser.usageSoFar?.();
  });
  let activities = 0;
  const before = process.cpuUsage();
  for (let i = 0; i < lines.length; i++) {
    parser.onLine(lines[i], "stdout");
    const taken = parser.takeActivity?.();
    if (taken) {
      activities += taken.length;
      if (withPace) for (const a of taken) pace.offer(a);
    }
    parser.usageSoFar?.();
  }
  pace.flush();
  const used = process.cpuUsage(before);
  return { cpuUs: used.user + used.system, activities, events };
}

async function inProcess(log) {
  const rows = [];
  const figures = {};
  for (const [tool, make] of Object.entries(streams())) {
    const lines = [];
    for (let n = 0; lines.length < LINES; n++) lines.push(...make(n));
    lines.length = LINES;
    await feed(tool, lines, true); // warm-up: JIT, module loading
    const runs = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await feed(tool, lines, true));
    const cpu = median(runs.map((r) => r.cpuUs));
    const { activities, events } = runs[0];
    const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
    figures[tool] = { usPerLine: cpu / LINES, usPerActivity: activities > 0 ? cpu / activities : undefined };
    rows.push([tool, `${(bytes / LINES).toFixed(0)} B`, `${(cpu / LINES).toFixed(2)} µs`, activities > 0 ? `${(cpu / activities).toFixed(2)} µs` : "—", String(activities), String(events)]);
    log(`bench: activity ${tool}: ${(cpu / LINES).toFixed(2)} µs a line`);
  }
  return { rows, figures };
}

async function endToEnd(log) {
  const dir = tempDir("activity");
  const fakes = path.join(repoRoot, "test", "fixtures", "tools");
  const plan = path.join(dir, "plan.json");
  writeWorkstream(dir, {
    id: "act",
    name: "act",
    execution: { isolation: "none", timeout_per_step: 0 },
    steps: [{ id: "s", tool: "claude", tasks: ["x"], file_scope: ["src/a.ts"], retries: 0 }],
  });
  // bench/reap.py counts the CPU of every process of the run (as in the overhead benchmark).
  let python3;
  try {
    python3 = execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    python3 = undefined;
  }
  const runOnce = async (calls) => {
    const { writeFileSync, rmSync } = await import("node:fs");
    writeFileSync(plan, JSON.stringify({ claude: [{ stream: { calls: [{ edit: "src/a.ts" }, { command: "npm test" }], repeat: calls / 2 } }] }));
    rmSync(`${plan}.claude.count`, { force: true });
    const r = await runReaped(process.execPath, [wsBin, "run", "--ws-id", "act"], { cwd: dir, env: { PATH: `${fakes}${path.delimiter}${process.env.PATH}`, FAKE_TOOL_PLAN: plan, ANTHROPIC_API_KEY: "k", CI: "1" }, python3 });
    const { readFileSync } = await import("node:fs");
    const events = readFileSync(path.join(dir, ".worktrees", "act", "events.jsonl"), "utf8").split("\n").filter((l) => l.includes('"type":"activity"')).length;
    return { ...r, events };
  };
  const chatty = [];
  const quiet = [];
  for (let r = 0; r < ROUNDS; r++) {
    quiet.push(await runOnce(2));
    chatty.push(await runOnce(CALLS));
  }
  removeDir(dir);
  const cpu = (runs) => median(runs.map((r) => r.cpuMs ?? Number.NaN));
  const wall = (runs) => median(runs.map((r) => r.wallMs));
  log(`bench: activity end to end: chatty ${fmtMs(cpu(chatty))} cpu, quiet ${fmtMs(cpu(quiet))}`);
  return { chattyCpu: cpu(chatty), quietCpu: cpu(quiet), chattyWall: wall(chatty), quietWall: wall(quiet), events: chatty[0]?.events ?? 0 };
}

export async function activity({ log }) {
  const { rows, figures } = await inProcess(log);
  const e2e = await endToEnd(log);
  const perCallMs = (e2e.chattyCpu - e2e.quietCpu) / (CALLS - 2);
  const worst = Math.max(...Object.values(figures).map((f) => f.usPerLine));
  const markdown = [
    "## 9. Activity parsing (issue 30)",
    "",
    `In process: ${LINES.toLocaleString("en-US")} lines of a chatty agent's stream in each CLI's own format, fed through its adapter's parser the way the engine does (onLine, takeActivity and usageSoFar after every line, the activity pace per attempt); CPU (user + system) of this process, median of ${ROUNDS} rounds after a warm-up. An "activity" is what the parser found; "events" what the pace let through (a burst of 5, then 2 a second: the lines here all come within milliseconds).`,
    "",
    table(["tool", "line", "CPU a line", "CPU an activity", "activities", "events"], rows),
    "",
    `End to end: \`ws run\` of one claude step (isolation none) whose fake streams ${CALLS} tool calls (${CALLS * 2} stream-json lines with usage on each), against the same step with 2 calls; CPU over every process (ws, the fake, its node start-up), median of ${ROUNDS} interleaved rounds.`,
    "",
    table(
      ["step", "CPU (all processes)", "wall", "activity events written"],
      [
        [`${CALLS} calls`, fmtMs(e2e.chattyCpu), fmtMs(e2e.chattyWall), String(e2e.events)],
        ["2 calls", fmtMs(e2e.quietCpu), fmtMs(e2e.quietWall), ""],
        ["per extra call", `${perCallMs.toFixed(3)} ms`, "", ""],
      ],
    ),
    "",
    `The per-call figure includes the fake printing its lines and ws writing them to the attempt log; the parsing itself is the in-process column (${worst.toFixed(2)} µs a line at most). Shell steps are not in the table: their last line is read from the log once a second (1 KiB read per running step), nothing per line.`,
  ].join("\n");
  return { markdown, summary: { name: "activity", worstUsPerLine: worst, perCallMs, goalMet: true } };
}
