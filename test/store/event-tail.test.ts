import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventTail } from "../../src/store/event-log.js";

/** events.jsonl read as it grows by another process (ws status --watch, ws logs --follow). */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-tail-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const line = (type: string, step = "a") => JSON.stringify({ type, at: "2026-12-06T12:00:00.000Z", step }) + "\n";

describe("EventTail", () => {
  it("returns each whole line once, holds a line still being written, and starts over when the file shrank", () => {
    const file = path.join(dir, "events.jsonl");
    const tail = new EventTail(file);
    expect(tail.read()).toEqual([]);
    fs.writeFileSync(file, line("step-start") + line("activity").slice(0, 20));
    expect(tail.read().map((e) => e.type)).toEqual(["step-start"]);
    expect(tail.read()).toEqual([]);
    fs.appendFileSync(file, line("activity").slice(20) + "not json\n" + line("step-end"));
    expect(tail.read().map((e) => e.type)).toEqual(["activity", "step-end"]);
    // ws clean, then a new run: a shorter file is a new log.
    fs.writeFileSync(file, line("run-start"));
    expect(tail.read().map((e) => e.type)).toEqual(["run-start"]);
  });
});
