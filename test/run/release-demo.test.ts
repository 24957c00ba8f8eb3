import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeProject, readEvents, readState, ws } from "./rig.js";

afterEach(cleanup);

const DEMO = fileURLToPath(new URL("../../workstreams/ws-release-workflow.json", import.meta.url));

function demoProject() {
  const p = makeProject([]);
  fs.mkdirSync(path.join(p.dir, "workstreams"), { recursive: true });
  fs.copyFileSync(DEMO, path.join(p.dir, "workstreams", "ws-release-workflow.json"));
  return p;
}

describe("the bundled ws-release-workflow demo (no API key)", () => {
  it("passes: outputs reach publish and report, the slow mirror loses the race, the failure handler is skipped", () => {
    const p = demoProject();
    const r = ws(p, ["run", "--ws-id", "ws-release-workflow", "--approve", "publish"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { steps } = readState(p, "ws-release-workflow");
    expect(steps["mirror-us"]).toMatchObject({ state: "cancelled", reason: "lost_race" });
    expect(steps["notify-failure"]).toMatchObject({ state: "skipped", reason: "run_if:failure" });
    expect(readEvents(p, "ws-release-workflow").find((e) => e.type === "approval-end")).toMatchObject({ step: "publish", approved: true, via: "flag" });
    expect(fs.readFileSync(path.join(p.dir, "out", "published.txt"), "utf8")).toBe("v1.4.0 from https://eu.example.org/app\n");
    expect(fs.readFileSync(path.join(p.dir, "out", "report.txt"), "utf8")).toBe("version 1.4.0\nFaster builds\nFewer bugs\n");
  });

  it("with DEMO_FAIL=true: smoke fails, notify-failure and report run, publish and version are rolled back", () => {
    const p = demoProject();
    const r = ws(p, ["run", "--ws-id", "ws-release-workflow", "--approve", "publish"], { DEMO_FAIL: "true" });
    expect(r.code).toBe(1);
    const { steps } = readState(p, "ws-release-workflow");
    expect(steps.smoke).toMatchObject({ state: "failed" });
    expect(steps["notify-failure"]).toMatchObject({ state: "passed" });
    expect(steps.report).toMatchObject({ state: "passed" });
    expect(fs.existsSync(path.join(p.dir, "out", "published.txt"))).toBe(false);
    expect(fs.existsSync(path.join(p.dir, "out", "version.txt"))).toBe(false);
    expect(r.stdout).toContain("rollback (failure): compensating 2 steps, last finished first: publish, version");
  });
});
