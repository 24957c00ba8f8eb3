import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stripAnsi } from "../../src/format/ansi.js";
import { BIN, cleanEnv } from "../helpers/cli.js";
import { cleanup, makeProject, readEvents, recStep, waitFor, wsAsync, wsc, type Project } from "../run/rig.js";

afterAll(cleanup);

/** a, then b (fails once, passes its retry, with an acceptance test); c beside them. */
const TL = {
  id: "tl",
  execution: { max_workers: 2 },
  steps: [recStep("a"), recStep("b", ["--fail-first", 1], { depends_on: ["a"], retries: 1, acceptance_tests: ["echo checked"] }), recStep("c")],
};

let shared: Promise<Project> | undefined;
const finished = (): Promise<Project> =>
  (shared ??= (async () => {
    const p = makeProject([TL]);
    expect((await wsc(p, ["run", "tl"])).code).toBe(0);
    return p;
  })());

const rowOf = (text: string, id: string) => text.split("\n").find((l) => l.slice(2).startsWith(`${id} `)) ?? "";

describe.concurrent("ws status --timeline", () => {
  it("draws each step's attempts as bars on one axis, plain and fitted to $COLUMNS in a pipe", async () => {
    const p = await finished();
    const r = await wsc(p, ["status", "tl", "--timeline"], { COLUMNS: "80" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("\u001b");
    const lines = r.stdout.trimEnd().split("\n");
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    // The header wraps at " · " to stay within the width.
    expect(lines.slice(0, 2).join(" · ")).toMatch(/^tl: passed · run \S+ · \S+ · steps summed \S+ \(\d+\.\d× one at a time\) · 2 workers$/);
    expect(lines.some((l) => /^ +0 +\S+/.test(l))).toBe(true);
    expect(lines.some((l) => /^ +┬─+┬/.test(l))).toBe(true);
    // One row per step in file order, each a passed bar; b's first attempt failed.
    expect(lines.filter((l) => /^[* ] [abc] /.test(l)).map((l) => l[2])).toEqual(["a", "b", "c"]);
    expect(rowOf(r.stdout, "a")).toMatch(/✔ .*\]/);
    expect(rowOf(r.stdout, "b")).toMatch(/✔ .*x.*#.*\].* ×2$/);
    expect(rowOf(r.stdout, "c")).toMatch(/✔ .*\]/);
    // The critical path the header names is the rows marked with *.
    const named = /critical path \S+ of \S+: (.*)$/m.exec(r.stdout)?.[1]?.split(" → ");
    expect(named === undefined ? [] : named.sort()).toEqual(["a", "b", "c"].filter((id) => rowOf(r.stdout, id).startsWith("*")));
    expect(named).toBeDefined();
    expect(r.stdout).toContain("x failed attempt");
  });

  it("colours it in a terminal, and the colours carry nothing the plain text lacks", async () => {
    const p = await finished();
    const plain = await wsc(p, ["status", "tl", "--timeline"], { COLUMNS: "80" });
    const coloured = await wsc(p, ["status", "tl", "--timeline"], { COLUMNS: "80", FORCE_COLOR: "1" });
    expect(coloured.stdout).toContain("\u001b[");
    expect(stripAnsi(coloured.stdout)).toBe(plain.stdout);
    const off = await wsc(p, ["--no-color", "status", "tl", "--timeline"], { COLUMNS: "80", FORCE_COLOR: "1" });
    expect(off.stdout).toBe(plain.stdout);
  });

  it("prints its layout with --json, and stops quietly when the pipe closes (| head)", async () => {
    const p = await finished();
    const json = await wsc(p, ["status", "tl", "--timeline", "--json"]);
    const layout = JSON.parse(json.stdout) as { rows: Array<{ step: string; attempts: unknown[] }>; status: string };
    expect(layout.status).toBe("passed");
    expect(layout.rows.map((r) => [r.step, r.attempts.length])).toEqual([["a", 1], ["b", 2], ["c", 1]]);
    const head = spawnSync("bash", ["-c", `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} status tl --timeline | head -2`], {
      cwd: p.dir,
      env: cleanEnv(),
      encoding: "utf8",
    });
    expect(head.status, head.stderr).toBe(0);
    expect(head.stdout.split("\n")[0]).toMatch(/^tl: passed/);
    expect(head.stderr).toBe("");
  });

  it("draws a run still going: its running step's bar open to now", async () => {
    const p = makeProject([{ id: "live", steps: [recStep("done"), recStep("hold", ["--wait-file", "go"], { depends_on: ["done"] })] }]);
    const run = wsAsync(p, ["run", "live"]);
    await waitFor("hold to start", () => fs.existsSync(path.join(p.state("live"), "events.jsonl")) && readEvents(p, "live").some((e) => e.type === "step-start" && e.step === "hold"));
    const r = await wsc(p, ["status", "live", "--timeline"], { COLUMNS: "90" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^live: running · run \S+ · \S+ so far/);
    expect(rowOf(r.stdout, "hold")).toMatch(/▶ .*\[?=*>/);
    expect(rowOf(r.stdout, "done")).toMatch(/✔ .*\]/);
    expect(r.stdout).toContain("> running");
    // Piped, --watch draws the picture once, when the run has ended.
    const watch = wsAsync(p, ["status", "live", "--timeline", "--watch"], { COLUMNS: "90" });
    fs.writeFileSync(path.join(p.dir, "go"), "");
    expect((await run.done).code).toBe(0);
    const watched = await watch.done;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout.match(/^live: /gm)).toEqual(["live: "]);
    expect(watched.stdout).toMatch(/^live: passed/);
    const after = await wsc(p, ["status", "live", "--timeline"], { COLUMNS: "90" });
    expect(rowOf(after.stdout, "hold")).toMatch(/✔ .*\]/);
    expect(after.stdout).not.toContain("> running");
  });

  it("says so for a workstream that never ran, and asks for an id without one", async () => {
    const p = makeProject([TL]);
    const r = await wsc(p, ["status", "tl", "--timeline"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("tl: no run yet (start one with: ws run --ws-id tl)");
    const none = await wsc(p, ["status", "--timeline"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--timeline draws one workstream's last run: name it");
  });
});
