import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeProject, recStep, waitFor, wsAsync } from "../run/rig.js";

/** `ws status --watch` into a pipe: the status once, then a line per change, not the table every second. */

afterAll(cleanup);

describe("ws status --watch, piped", () => {
  it("prints the table once, a line when a step's state changes, and the closing lines at the end", async () => {
    const p = makeProject([]);
    const first = path.join(p.dir, "first-may-end");
    const second = path.join(p.dir, "second-may-end");
    fs.mkdirSync(path.join(p.dir, "workstreams"));
    fs.writeFileSync(
      path.join(p.dir, "workstreams", "slow.json"),
      JSON.stringify({ id: "slow", steps: [recStep("a", ["--wait-file", first]), recStep("b", ["--wait-file", second], { depends_on: ["a"] })] }),
    );
    const run = wsAsync(p, ["run", "slow"]);
    await waitFor("the run's state", () => fs.existsSync(path.join(p.state("slow"), "state.json")));
    const watch = wsAsync(p, ["status", "slow", "--watch"], { COLUMNS: "100" });
    await waitFor("the first table", () => watch.output().includes("└"));
    fs.writeFileSync(first, "");
    // b runs until the watch (at one of its one-second ticks) has seen it running, or has drawn a second table.
    await waitFor("the watch to see b running", () => watch.output().includes("b: ▶ running") || watch.output().split("┌").length > 2);
    fs.writeFileSync(second, "");
    const done = await watch.done;
    expect((await run.done).code).toBe(0);
    expect(done.code).toBe(0);
    const lines = done.stdout.split("\n").filter(Boolean);
    // One table, and a line per change after it.
    expect(lines.filter((l) => l.startsWith("┌"))).toHaveLength(1);
    const changes = lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l)).map((l) => l.slice(13).replace(/, \S+$/, ""));
    expect(changes).toEqual(expect.arrayContaining(["a: ✔ passed", "b: ▶ running (attempt 1)", "b: ✔ passed"]));
    expect(new Set(changes).size).toBe(changes.length);
    expect(lines[lines.length - 1]).toMatch(/^slow: passed · run \S+ · started .* · 2\/2 passed$/);
    expect(lines.length).toBeLessThan(20);
  });
});
