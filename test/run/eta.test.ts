import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readRecord, recStep, waitFor, ws, wsAsync } from "./rig.js";

afterEach(cleanup);

describe("ETA and elapsed time", () => {
  it("the second run's summary compares the estimate with the real time; ws status shows elapsed time and the ETA of a running run", async () => {
    const p = makeProject([{ id: "eta", steps: [recStep("a"), recStep("b", ["--wait-file", "go"], { depends_on: ["a"] })] }]);
    fs.writeFileSync(path.join(p.dir, "go"), "");
    const first = ws(p, ["run", "--ws-id", "eta"]);
    expect(first.code).toBe(0);
    // No history yet: no estimate to compare with.
    expect(first.stdout).not.toContain("estimated");
    fs.rmSync(path.join(p.dir, "go"));
    const run = wsAsync(p, ["run", "--ws-id", "eta"]);
    await waitFor("b's second start", () => readRecord(p).filter((l) => l.id === "b" && l.event === "start").length === 2);
    const status = ws(p, ["status", "--ws-id", "eta"]).stdout;
    // a ended (b still waits): the share of the expected work done; an ETA only while the estimate is not overrun.
    expect(status).toMatch(/running · run .* · elapsed \S+ · \d+% of the expected work done( · ETA \S+)?$/m);
    expect(status).toMatch(/b .*running.* \S+ so far/);
    fs.writeFileSync(path.join(p.dir, "go"), "");
    const second = await run.done;
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/eta: passed in \S+; .*; estimated \S+, took \S+/);
  });
});
