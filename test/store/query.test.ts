import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirs } from "../helpers/temp-dirs.js";
import { isUserError } from "../../src/errors.js";
import { wsPaths } from "../../src/store/paths.js";
import { attemptLogs, knownIds, lastRun, parseLegacyReason } from "../../src/store/query.js";

const project = tempDirs("ws-query-");

describe("the store query layer", () => {
  it("refuses an id that is a path before reading anything", () => {
    const dir = project();
    const error = (() => {
      try {
        lastRun(dir, "../outside");
      } catch (e) {
        return e;
      }
    })();
    expect(isUserError(error) && error.message).toContain('invalid workstream id "../outside"');
  });

  it("reads a run recorded before reasons were structured (exit:3, blocked_by:a) as structured reasons", () => {
    const dir = project();
    const paths = wsPaths(dir, "old");
    fs.mkdirSync(paths.root, { recursive: true });
    const steps = {
      a: { id: "a", state: "failed", attempts: 1, selected: true, reason: "exit:3" },
      b: { id: "b", state: "blocked", attempts: 0, selected: true, reason: "blocked_by:a" },
      c: { id: "c", state: "failed", attempts: 1, selected: true, reason: "timeout" },
    };
    fs.writeFileSync(paths.state, JSON.stringify({ version: 1, runId: "r", wsId: "old", status: "failed", pid: 1, order: ["a", "b", "c"], steps }));
    const run = lastRun(dir, "old");
    expect(run?.status).toBe("failed");
    expect(run?.state.steps.a?.reason).toEqual({ kind: "exit", code: 3 });
    expect(run?.state.steps.b?.reason).toEqual({ kind: "blocked_by", step: "a" });
    expect(run?.state.steps.c?.reason).toEqual({ kind: "timeout" });
    expect(parseLegacyReason("signal:SIGKILL")).toEqual({ kind: "signal", signal: "SIGKILL" });
  });

  it("knows ids from files and from runs, and finds an attempt's logs with its tests'", () => {
    const dir = project();
    fs.mkdirSync(path.join(dir, "workstreams"));
    fs.writeFileSync(path.join(dir, "workstreams", "b.json"), "{}");
    const paths = wsPaths(dir, "a");
    fs.mkdirSync(paths.stepDir("s"), { recursive: true });
    fs.writeFileSync(paths.events, "");
    for (const f of ["attempt-1.log", "attempt-2.log", "attempt-2.test-2.log", "attempt-2.test-1.log"]) fs.writeFileSync(path.join(paths.stepDir("s"), f), "");
    expect(knownIds(dir, path.join(dir, "workstreams"))).toEqual(["a", "b"]);
    expect(attemptLogs(dir, "a", "s")).toEqual({ kind: "found", attempt: 2, attempts: [1, 2], files: [paths.attemptLog("s", 2), paths.testLog("s", 2, 1), paths.testLog("s", 2, 2)] });
    expect(attemptLogs(dir, "a", "s", 5)).toEqual({ kind: "no-attempt", attempt: 5, attempts: [1, 2] });
    expect(attemptLogs(dir, "a", "t")).toEqual({ kind: "no-logs" });
  });
});
