import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { UserError } from "../../src/errors.js";
import { EventLog, readEvents } from "../../src/store/event-log.js";
import { tempDir } from "./helpers.js";

let dir: string;
beforeEach(() => (dir = tempDir()));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const at = "2026-11-22T10:00:00.000Z";
const start: RunEvent = {
  type: "run-start", at, runId: "r1", wsId: "ws-a", file: "workstreams/ws-a.json", hash: "h", steps: ["a", "b"],
  selected: ["a", "b"], maxWorkers: 2, pid: 123, resume: false, workdir: "/x",
};
const stepStart: RunEvent = { type: "step-start", at, step: "a", attempt: 1, tool: "shell" };
const warning: RunEvent = { type: "warning", at, message: "line one\nline \"two\" ✓" };

describe("EventLog", () => {
  it("round-trips events, one line each, creating folders", () => {
    const file = path.join(dir, ".worktrees", "ws-a", "events.jsonl");
    const log = EventLog.open(file);
    log.append(start);
    log.append(stepStart);
    log.append(warning);
    log.close();
    expect(fs.readFileSync(file, "utf8").split("\n")).toHaveLength(4);
    expect(readEvents(file)).toEqual({ events: [start, stepStart, warning], torn: false });
  });

  it("appends to an existing log across opens", () => {
    const file = path.join(dir, "events.jsonl");
    const first = EventLog.open(file);
    first.append(start);
    first.close();
    const second = EventLog.open(file);
    second.append(stepStart);
    second.close();
    expect(readEvents(file).events).toEqual([start, stepStart]);
  });

  it("ignores a torn last line, and a run after the crash does not glue onto it", () => {
    const file = path.join(dir, "events.jsonl");
    const log = EventLog.open(file);
    log.append(start);
    log.close();
    const whole = JSON.stringify(stepStart);
    fs.appendFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    expect(readEvents(file)).toEqual({ events: [start], torn: true });

    const next = EventLog.open(file);
    next.append(warning);
    next.close();
    expect(readEvents(file)).toEqual({ events: [start, warning], torn: true });
  });

  it("skips lines that are JSON but not events", () => {
    const file = path.join(dir, "events.jsonl");
    fs.writeFileSync(file, `${JSON.stringify(start)}\n42\n{"type":"x"}\nnull\n\n${JSON.stringify(stepStart)}\n`);
    expect(readEvents(file)).toEqual({ events: [start, stepStart], torn: true });
  });

  it("reads a missing file as an empty log", () => {
    expect(readEvents(path.join(dir, "nope.jsonl"))).toEqual({ events: [], torn: false });
  });

  it("throws a UserError naming the path when the folder cannot be created", () => {
    fs.writeFileSync(path.join(dir, "blocker"), "");
    const file = path.join(dir, "blocker", "ws-a", "events.jsonl");
    expect(() => EventLog.open(file)).toThrow(UserError);
    expect(() => EventLog.open(file)).toThrow(file);
  });

  it("refuses to append after close (a bug, not a user error)", () => {
    const log = EventLog.open(path.join(dir, "events.jsonl"));
    log.close();
    expect(() => log.append(start)).toThrow(/after close/);
  });
});

describe("EventLog under kill -9", () => {
  it("loses at most the line being written", async () => {
    const { spawn } = await import("node:child_process");
    const { transpileForChild } = await import("./helpers.js");
    const code = path.join(dir, "code");
    transpileForChild(code, ["store/event-log.ts", "store/store-error.ts", "errors.ts"]);
    const file = path.join(dir, "events.jsonl");
    fs.writeFileSync(
      path.join(code, "writer.js"),
      `import { EventLog } from "./store/event-log.js";
const log = EventLog.open(${JSON.stringify(file)});
const pad = "x".repeat(3000);
for (let i = 0; ; i++) {
  log.append({ type: "warning", at: new Date().toISOString(), message: String(i), step: pad });
  if (i === 200) process.stdout.write("going\\n");
}
`,
    );
    const child = spawn(process.execPath, [path.join(code, "writer.js")], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const { events } = readEvents(file);
    expect(events.length).toBeGreaterThan(200);
    // Every event up to the last whole one is there, in order: nothing lost in the middle.
    expect(events.map((e) => (e.type === "warning" ? Number(e.message) : -1))).toEqual(events.map((_, i) => i));
    // A torn tail (if the kill hit mid-write) is at most one partial line.
    const text = fs.readFileSync(file, "utf8");
    const rest = text.slice(text.lastIndexOf("\n") + 1);
    expect(rest.length).toBeLessThan(3200);
  });
});
