import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, cleanup, gitProject, readEvents, recStep, waitFor, writeWorkstream, wsAsync, wsc, type Project } from "./rig.js";
import { cleanEnv } from "../helpers/cli.js";
import { EVERY_MS } from "../../src/report/activity-throttle.js";

/**
 * Watching agents through the built binary (issue 30, points 2 and 3): three custom-tool agents
 * (chatty.mjs: an output line every few ms, each an activity) run in a pipe, in --json, in a
 * terminal (a pseudo-terminal from util-linux `script`), and are watched from another process
 * with `ws status --watch` and `ws logs --follow --step`.
 */

afterAll(cleanup);

const CHATTY = fileURLToPath(new URL("../fixtures/tools/chatty.mjs", import.meta.url));

/**
 * Three agent steps of the chatty tool, each printing `lines` lines `every` ms apart; with `wait`,
 * each then waits (silent) until the test writes the project's `may-end` file.
 */
function chattyProject(id: string, lines: number, every: number, wait = false): Project & { go: string } {
  const p = gitProject([]);
  const go = path.join(p.dir, "may-end");
  const args = [CHATTY, "--lines", String(lines), "--every", String(every), ...(wait ? ["--wait-file", go] : [])];
  writeWorkstream(p.dir, {
    id,
    // Its own worktree is enough here: the sandbox only adds start-up time to each step.
    execution: { isolation: "worktree" },
    tools: { chatty: { command: process.execPath, args } },
    // Limits the view measures spend against (the chatty tool reports none, so none is reached).
    budget: { max_cost_usd: 5 },
    steps: ["a", "b", "c"].map((s) => ({ id: s, tool: "chatty", tasks: [`work on ${s}`], file_scope: [`${s}.txt`], ...(s === "a" ? { budget: { max_tokens: 1000 } } : {}) })),
  });
  return { ...p, go };
}

const activityLines = (text: string) => text.split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d{3} activity [abc]: /.test(l));

/** The most lines a pipe may print for `steps` steps whose activities span `spanMs`: one at once, then one per window. */
const bound = (steps: number, spanMs: number) => steps * (Math.floor(spanMs / EVERY_MS) + 2);

function activitySpan(events: ReturnType<typeof readEvents>): number {
  const times = events.filter((e) => e.type === "activity").map((e) => Date.parse(e.at));
  return Math.max(...times) - Math.min(...times);
}

describe("a chatty 3-agent run in a pipe", () => {
  it("prints a bounded number of activity lines (some for each step), while orchestrator.log and --json carry every activity", async () => {
    const p = chattyProject("chat", 120, 25);
    const r = await wsc(p, ["run", "chat"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const all = readEvents(p, "chat");
    // The limits travel with the run, so a view of the events alone can measure against them.
    expect(all.find((e) => e.type === "run-start")).toMatchObject({ budget: { maxCostUsd: 5 }, budgets: { a: { maxTokens: 1000 } } });
    const events = all.filter((e) => e.type === "activity");
    // Many activities: the tool printed 120 lines per step, and ws keeps one per 100 ms of them.
    expect(events.length).toBeGreaterThanOrEqual(3 * 5);
    const printed = activityLines(r.stdout);
    for (const step of ["a", "b", "c"]) expect(printed.some((l) => l.includes(` activity ${step}: working on `))).toBe(true);
    expect(printed.length).toBeLessThanOrEqual(bound(3, activitySpan(events)));
    expect(printed.length).toBeLessThan(events.length);
    // The log a person tails has every one.
    const log = fs.readFileSync(path.join(p.state("chat"), "orchestrator.log"), "utf8");
    expect(log.split("\n").filter((l) => / activity [abc]: /.test(l)).length).toBe(events.length);

    const json = await wsc(p, ["run", "chat", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const streamed = json.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; runId?: string; step?: string; text?: string });
    const runId = streamed.find((e) => e.type === "run-start")?.runId;
    const recorded = readEvents(p, "chat").filter((e) => e.type === "activity");
    const thisRun = recorded.slice(events.length);
    expect(runId).toBeDefined();
    expect(streamed.filter((e) => e.type === "activity").map((e) => `${e.step} ${e.text}`)).toEqual(thisRun.map((e) => `${e.step} ${String(e.text)}`));
  });
});

/** `command` in a pseudo-terminal of 100×30 (util-linux `script`): what a terminal would have received, escape codes and all. */
function inTerminal(project: Project, command: string[]): { output(): string; done: Promise<{ code: number | null; raw: string }> } {
  const line = ["stty cols 100 rows 30;", "exec", ...[process.execPath, BIN, ...command].map((a) => `'${a}'`)].join(" ");
  const child = spawn("script", ["-qfec", line, "/dev/null"], { cwd: project.dir, env: cleanEnv({ TERM: "xterm-256color" }), stdio: ["ignore", "pipe", "inherit"] });
  let raw = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (raw += s));
  return { output: () => raw, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, raw }))) };
}

// eslint-disable-next-line no-control-regex
const plain = (raw: string) => raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");

describe("the live view in a terminal", () => {
  it("draws a line per running step with its latest activity, at most about 10 frames a second", async () => {
    const p = chattyProject("live", 80, 25);
    const r = await inTerminal(p, ["run", "live"]).done;
    expect(r.code, r.raw).toBe(0);
    const text = plain(r.raw);
    for (const step of ["a", "b", "c"]) expect(text).toMatch(new RegExp(`▸ ${step} \\d+s · working on \\d+`));
    expect(text).toMatch(/\d\/3 done · (?:.* · )?\d running · /);
    // ora draws a frame inside one synchronized-output block each; the run says how long it took.
    const frames = r.raw.split("\u001b[?2026h").length - 1;
    const took = JSON.parse(fs.readFileSync(path.join(p.state("live"), "events.jsonl"), "utf8").trim().split("\n").at(-1)!) as { durationMs: number };
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThanOrEqual(Math.ceil(took.durationMs / 100) * 1.5 + 10);
  });
});

describe("watching from another terminal", () => {
  it("ws status --watch in a pipe: news among the activities at the run's bounded rate, none from before its table", async () => {
    const p = chattyProject("watched", 60, 40, true);
    const run = wsAsync(p, ["run", "watched"]);
    await waitFor("the run's state", () => fs.existsSync(path.join(p.state("watched"), "state.json")));
    const watch = wsAsync(p, ["status", "watched", "--watch"], { COLUMNS: "100" });
    // The steps print for a few seconds after the watch's table, then wait for the test.
    await waitFor("an activity line in the watch", () => activityLines(watch.output()).length > 0);
    fs.writeFileSync(p.go, "");
    const done = await watch.done;
    expect((await run.done).code).toBe(0);
    expect(done.code).toBe(0);
    const printed = activityLines(done.stdout);
    const events = readEvents(p, "watched");
    expect(printed.length).toBeLessThanOrEqual(bound(3, activitySpan(events)));
    // Each line is one the run itself would print: an activity of the log, with what it stood for.
    const texts = new Set(events.filter((e) => e.type === "activity").map((e) => `${e.step}: ${String(e.text)}`));
    for (const line of printed) expect(texts.has(line.slice(22).replace(/ \(and \d+ more\)$/, ""))).toBe(true);
  });

  it("ws status --watch in a terminal shows the live view's lines under the table", async () => {
    const p = chattyProject("seen", 40, 50, true);
    const run = wsAsync(p, ["run", "seen"]);
    await waitFor("every step's first activity", () => fs.existsSync(path.join(p.state("seen"), "events.jsonl")) && new Set(readEvents(p, "seen").filter((e) => e.type === "activity").map((e) => e.step)).size === 3);
    const watching = inTerminal(p, ["status", "seen", "--watch"]);
    // The run goes on once the watch has drawn every step's line.
    await waitFor("the watch's live lines", () => ["a", "b", "c"].every((step) => new RegExp(`▸ ${step} \\d+s · working on \\d+`).test(plain(watching.output()))));
    fs.writeFileSync(p.go, "");
    const r = await watching.done;
    expect((await run.done).code).toBe(0);
    expect(r.code, r.raw).toBe(0);
    const text = plain(r.raw);
    expect(text).toMatch(/running now:/);
    for (const step of ["a", "b", "c"]) expect(text).toMatch(new RegExp(`▸ ${step} \\d+s · working on \\d+`));
  });

  it("ws logs --follow --step streams a running step's output into its next attempt and ends when the step does", async () => {
    const p = gitProject([]);
    const go = path.join(p.dir, "may-end");
    fs.mkdirSync(path.join(p.dir, "workstreams"), { recursive: true });
    fs.writeFileSync(path.join(p.dir, "workstreams", "fl.json"), JSON.stringify({ id: "fl", steps: [recStep("s", ["--say", "hello", "--wait-file", go, "--fail-first", 1], { retries: 1 })] }));
    const run = wsAsync(p, ["run", "fl"]);
    await waitFor("the step's first attempt", () => fs.existsSync(path.join(p.state("fl"), "steps", "s", "attempt-1.log")));
    const follow = wsAsync(p, ["logs", "fl", "--follow", "--step", "s"]);
    // Streamed: the first attempt's line arrives while that attempt still runs (it waits for the test).
    await waitFor("the first attempt's output", () => follow.output().includes("hello (invocation 1)"));
    fs.writeFileSync(go, "");
    const done = await follow.done;
    expect((await run.done).code).toBe(0);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/hello \(invocation 1\)[\s\S]*s fails with 1[\s\S]*==> \.worktrees\/fl\/steps\/s\/attempt-2\.log <==[\s\S]*hello \(invocation 2\)/);
    // Each line once.
    expect(done.stdout.split("hello (invocation 1)").length).toBe(2);
    expect(done.stdout.split("hello (invocation 2)").length).toBe(2);
  });

  it("ws logs --follow --step of a step still waiting for its dependency waits for its output, then ends with it", async () => {
    const p = gitProject([]);
    const go = path.join(p.dir, "may-end");
    writeWorkstream(p.dir, { id: "later", steps: [recStep("a", ["--wait-file", go]), recStep("b", ["--say", "b speaks"], { depends_on: ["a"] })] });
    const run = wsAsync(p, ["run", "later"]);
    await waitFor("a running", () => fs.existsSync(path.join(p.state("later"), "steps", "a", "attempt-1.log")));
    const follow = wsAsync(p, ["logs", "later", "--follow", "--step", "b"]);
    // Not an error ("has not started yet") while its run may still start it.
    await waitFor("the follow to wait", () => follow.output().includes("b has not started yet in the running run; waiting for its output"));
    fs.writeFileSync(go, "");
    const done = await follow.done;
    expect((await run.done).code).toBe(0);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain("b speaks (invocation 1)");
  });
});
