import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, waitFor, wsAsync } from "./rig.js";

afterEach(cleanup);

// The built binary: a step writes to $WS_PROGRESS; the run emits typed progress events, and --json stays an event stream.
describe("progress from inside a step", () => {
  it("a value written to $WS_PROGRESS becomes one progress event while the step runs, in events.jsonl, the log and the --json stream", async () => {
    const run = 'echo 2/5 >> "$WS_PROGRESS"; while [ ! -f go ]; do sleep 0.05; done';
    const p = makeProject([{ id: "prog", execution: { isolation: "none" }, steps: [{ id: "s", tool: "shell", run, weight: 3 }, { id: "t", tool: "shell", run: "true", depends_on: ["s"] }] }]);
    const running = wsAsync(p, ["run", "--ws-id", "prog", "--json"]);
    const eventsFile = path.join(p.state("prog"), "events.jsonl");
    // The step waits for the go file until its progress was seen: no timing assumption.
    await waitFor("the progress event", () => fs.existsSync(eventsFile) && fs.readFileSync(eventsFile, "utf8").includes('"type":"progress"'));
    fs.writeFileSync(path.join(p.dir, "go"), "");
    const r = await running.done;
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string; step?: string });
    const progress = events.filter((e) => e.type === "progress");
    expect(progress).toEqual([{ type: "progress", at: expect.any(String), step: "s", attempt: 1, fraction: 0.4 }]);
    const index = (type: string, step: string) => events.findIndex((e) => e.type === type && e.step === step);
    expect(index("step-start", "s")).toBeLessThan(events.indexOf(progress[0]!));
    expect(events.indexOf(progress[0]!)).toBeLessThan(index("step-end", "s"));
    expect(events[0]).toMatchObject({ type: "run-start", weights: { s: 3, t: 1 } });
    expect(fs.readFileSync(path.join(p.state("prog"), "orchestrator.log"), "utf8")).toMatch(/progress s: 40%/);
  });
});
