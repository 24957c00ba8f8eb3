import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { RunLog } from "../../src/store/run-log.js";
import { tempDir } from "./helpers.js";

let dir: string;
beforeEach(() => (dir = tempDir()));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("RunLog", () => {
  it("appends timestamped lines, one timestamp per line of text", () => {
    const file = path.join(dir, "ws-a", "orchestrator.log");
    const log = RunLog.open(file);
    log.line("run started");
    log.line("step a failed:\nexit 1");
    log.close();
    const again = RunLog.open(file);
    again.line("resumed");
    again.close();
    const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    expect(lines.map((l) => l.slice(25))).toEqual(["run started", "step a failed:", "exit 1", "resumed"]);
  });

  it("throws a UserError naming the path when it cannot open", () => {
    fs.writeFileSync(path.join(dir, "blocker"), "");
    const file = path.join(dir, "blocker", "orchestrator.log");
    expect(() => RunLog.open(file)).toThrow(UserError);
    expect(() => RunLog.open(file)).toThrow(file);
  });
});
