import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { medianDuration, readHistory, recordDurations } from "../../src/store/history.js";
import { tempDir } from "./helpers.js";

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = path.join(dir, "ws-a", "history.json");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("history", () => {
  it("reads a missing or corrupt file as empty", () => {
    expect(readHistory(file)).toEqual({ steps: {} });
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, "{nope");
    expect(readHistory(file)).toEqual({ steps: {} });
    fs.writeFileSync(file, '{"steps":{"a":[1,"x",-3,2],"b":"no"}}');
    expect(readHistory(file)).toEqual({ steps: { a: [1, 2] } });
  });

  it("merges durations and keeps the last 10 per step", () => {
    for (let i = 1; i <= 12; i++) recordDurations(file, { a: i * 100 });
    recordDurations(file, { b: 7.4 });
    const history = readHistory(file);
    expect(history.steps.a).toEqual([300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200]);
    expect(history.steps.b).toEqual([7]);
  });

  it("keeps the last one-worker run through later duration records, and drops a malformed one", () => {
    recordDurations(file, { a: 5 }, { runId: "r1", hash: "h", wallMs: 1234.4 });
    recordDurations(file, { a: 6 });
    expect(readHistory(file)).toEqual({ steps: { a: [5, 6] }, oneWorker: { runId: "r1", hash: "h", wallMs: 1234 } });
    fs.writeFileSync(file, '{"steps":{},"oneWorker":{"runId":"r","hash":"h","wallMs":"soon"}}');
    expect(readHistory(file)).toEqual({ steps: {} });
  });

  it("gives the median of odd and even counts, undefined without data", () => {
    const h = { steps: { odd: [5, 1, 9], even: [4, 1, 10, 2], none: [] } };
    expect(medianDuration(h, "odd")).toBe(5);
    expect(medianDuration(h, "even")).toBe(3);
    expect(medianDuration(h, "none")).toBeUndefined();
    expect(medianDuration(h, "missing")).toBeUndefined();
  });

  it("throws a UserError naming the path when it cannot write", () => {
    fs.writeFileSync(path.join(dir, "blocker"), "");
    const bad = path.join(dir, "blocker", "history.json");
    expect(() => recordDurations(bad, { a: 1 })).toThrow(UserError);
    expect(() => recordDurations(bad, { a: 1 })).toThrow(bad);
  });
});
