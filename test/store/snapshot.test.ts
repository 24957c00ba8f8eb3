import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { UserError } from "../../src/errors.js";
import { EventLog } from "../../src/store/event-log.js";
import { wsPaths, type WsPaths } from "../../src/store/paths.js";
import { applyEvent, foldEvents, type RunState } from "../../src/store/run-state.js";
import { loadRunState, readState, writeState } from "../../src/store/snapshot.js";
import { tempDir } from "./helpers.js";

let dir: string;
let paths: WsPaths;
beforeEach(() => {
  dir = tempDir();
  paths = wsPaths(dir, "ws-a");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const at = "2026-11-22T10:00:00.000Z";
const events: RunEvent[] = [
  { type: "run-start", at, runId: "r1", wsId: "ws-a", file: "f", hash: "h", steps: ["a", "b"], selected: ["a", "b"],
    maxWorkers: 2, pid: 1, resume: false, workdir: "/x" },
  { type: "step-start", at, step: "a", attempt: 1, tool: "shell" },
  { type: "step-end", at, step: "a", state: "passed", reason: { kind: "passed" }, attempts: 1, durationMs: 5 },
];

function writeEvents(list: RunEvent[]): void {
  const log = EventLog.open(paths.events);
  for (const event of list) log.append(event);
  log.close();
}

function setMtime(file: string, seconds: number): void {
  fs.utimesSync(file, seconds, seconds);
}

describe("snapshot", () => {
  it("writes atomically and reads back, leaving no temp files", () => {
    const state = foldEvents(events)!;
    writeState(paths.state, state);
    expect(readState(paths.state)).toEqual(state);
    const next = { ...state, status: "passed" as const };
    writeState(paths.state, next);
    expect(readState(paths.state)).toEqual(next);
    expect(fs.readdirSync(paths.root)).toEqual(["state.json"]);
  });


  it("leaves out the steps a run did not select and no run started, and reads them back in file order", () => {
    const ids = ["__proto__", "x", "a", "constructor", "b", "y"];
    const first = foldEvents([{ ...events[0]!, steps: ids, selected: ["a", "b"] } as RunEvent, ...events.slice(1)]);
    // A resume that selects only b keeps a (passed earlier) as a full record.
    const state = applyEvent(first, { ...events[0]!, steps: ids, selected: ["b"], resume: true } as RunEvent)!;
    writeState(paths.state, state);
    const written = JSON.parse(fs.readFileSync(paths.state, "utf8")) as { steps: Record<string, unknown> };
    expect(Object.keys(written.steps)).toEqual(["a", "b"]);
    const read = readState(paths.state)!;
    expect(read).toEqual(state);
    expect(Object.keys(read.steps)).toEqual(ids);
    expect(read.steps.a).toMatchObject({ state: "passed", selected: false });
    expect(Object.getPrototypeOf(read.steps)).toBeNull();
  });
  it("reads missing, corrupt or foreign state as undefined", () => {
    expect(readState(paths.state)).toBeUndefined();
    fs.mkdirSync(paths.root, { recursive: true });
    fs.writeFileSync(paths.state, '{"version":1,"steps":');
    expect(readState(paths.state)).toBeUndefined();
    fs.writeFileSync(paths.state, '{"version":2,"steps":{},"order":[]}');
    expect(readState(paths.state)).toBeUndefined();
  });

  it("loadRunState folds events.jsonl when state.json is missing", () => {
    writeEvents(events);
    const state = loadRunState(paths);
    expect(state?.steps.a?.state).toBe("passed");
    expect(state?.steps.b?.state).toBe("pending");
  });

  it("loadRunState uses a state.json newer than the events, and folds when it is stale", () => {
    writeEvents(events);
    // A snapshot that differs from the fold, so we can tell which one was used.
    const snapshot: RunState = { ...foldEvents(events)!, runId: "from-snapshot" };
    writeState(paths.state, snapshot);
    setMtime(paths.events, 1_000_000);
    setMtime(paths.state, 1_000_010);
    expect(loadRunState(paths)?.runId).toBe("from-snapshot");

    setMtime(paths.events, 1_000_020);
    expect(loadRunState(paths)?.runId).toBe("r1");
  });

  it("loadRunState falls back to events when state.json is corrupt, and is undefined with neither", () => {
    expect(loadRunState(paths)).toBeUndefined();
    writeEvents(events);
    fs.writeFileSync(paths.state, "{torn");
    setMtime(paths.events, 1_000_000);
    expect(loadRunState(paths)?.runId).toBe("r1");
  });

  it("throws a UserError naming the path when state.json cannot be written", () => {
    fs.writeFileSync(path.join(dir, "blocker"), "");
    const file = path.join(dir, "blocker", "state.json");
    expect(() => writeState(file, foldEvents(events)!)).toThrow(UserError);
    expect(() => writeState(file, foldEvents(events)!)).toThrow(file);
  });
});
