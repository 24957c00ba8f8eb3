import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killIfStill, PROC_FIXTURES, project, removeProjects, STACK_LINE, stateDir, status, waitGone, ws, type StatusJson } from "./helpers.js";

/**
 * Children that misbehave, run as steps by the real binary: they are handled (the run goes on),
 * logged (in the attempt's log, with a footer saying how they ended) and killed on timeout, with
 * no process left behind.
 */

const ID = "nasty";
const FAKE_CLAUDE = fileURLToPath(new URL("../fixtures/tools/claude", import.meta.url));
const fx = (name: string) => path.join(PROC_FIXTURES, name);
const node = (name: string, ...args: string[]) => [process.execPath, fx(name), ...args].map((a) => `'${a}'`).join(" ");

const WORKSTREAM = {
  id: ID,
  execution: { max_workers: 3, isolation: "none" },
  steps: [
    // exec: the group leader itself ignores SIGTERM (a shell in between would die of it).
    { id: "ignores-term", run: `exec ${node("ignores-sigterm.cjs")}`, timeout: 1 },
    { id: "grandchild-left", run: `sh '${fx("spawns-grandchild.sh")}' gc-left.pid` },
    { id: "grandchild-waited", run: `sh '${fx("spawns-grandchild.sh")}' gc-waited.pid wait`, timeout: 1 },
    { id: "closes-stdout", run: `sh '${fx("closes-stdout.sh")}'` },
    { id: "binary", run: node("binary.cjs") },
    { id: "long-line", run: node("long-line.cjs") },
    { id: "long-unterminated", run: `${node("long-line.cjs", String(3 * 1024 * 1024))} | head -c 3145728` },
    { id: "flood", run: node("flood.cjs", "8") },
    { id: "test-hangs", run: "true", acceptance_tests: [{ run: `exec ${node("ignores-sigterm.cjs")}`, timeout: 1 }] },
    { id: "agent-hangs", tool: "claude", tasks: ["hang and leave a grandchild"], file_scope: ["x.txt"], timeout: 1 },
    // Depends on every misbehaving step that passes: the run really went on past them.
    { id: "after", run: "echo after", depends_on: ["grandchild-left", "closes-stdout", "binary", "long-line", "long-unterminated", "flood"] },
  ],
};

let dir: string;
let run: ReturnType<typeof ws>;
let st: StatusJson;
const log = (stepId: string, name = "attempt-1.log") => fs.readFileSync(path.join(stateDir(dir, ID), "steps", stepId, name));

beforeAll(() => {
  dir = project([WORKSTREAM]);
  fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify({ claude: [{ hang: true, ignoreTerm: true, grandchild: true }] }));
  run = ws(["run", "--ws-id", ID], dir, {
    WS_CLAUDE_BIN: FAKE_CLAUDE,
    FAKE_TOOL_PLAN: path.join(dir, "plan.json"),
    FAKE_TOOL_LOG: path.join(dir, "tool.log"),
  });
  st = status(dir, ID);
});
afterAll(() => {
  // Safety net when an assertion failed: the grandchildren the fixtures recorded, by pid.
  const pids = [
    ...["gc-left.pid", "gc-waited.pid"].map((f) => readOr(path.join(dir, f))),
    ...readOr(path.join(dir, "tool.log")).split("\n").map((l) => /"grandchildPid":(\d+)/.exec(l)?.[1] ?? ""),
  ];
  for (const pid of pids.map(Number).filter((p) => p > 1)) killIfStill(pid, ["sleep 1000", "setInterval"]);
  removeProjects();
});

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

const pidIn = (text: string, pattern: RegExp): number => {
  const m = pattern.exec(text);
  if (!m?.[1]) throw new Error(`no pid matching ${String(pattern)}`);
  return Number(m[1]);
};

describe("misbehaving children under ws run", () => {
  it("the run ends (exit 1: some steps time out by design), with no stack trace", () => {
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr + run.stdout).not.toMatch(STACK_LINE);
    expect(st.steps.after?.state).toBe("passed");
  });

  it("a child that ignores SIGTERM is killed with SIGKILL after the grace period", async () => {
    expect(st.steps["ignores-term"]).toMatchObject({ state: "failed", reason: "timeout" });
    const text = log("ignores-term").toString();
    expect(text).toContain("ignoring SIGTERM");
    expect(text).toMatch(/# \S+ timeout after 1s \(SIGTERM, then SIGKILL\)/);
    expect(await waitGone(pidIn(text, /ready (\d+)/))).toBe(true);
  });

  it("a grandchild holding stdout is swept when its parent exits, and on timeout", async () => {
    expect(st.steps["grandchild-left"]?.state).toBe("passed");
    expect(await waitGone(Number(fs.readFileSync(path.join(dir, "gc-left.pid"), "utf8")))).toBe(true);
    expect(st.steps["grandchild-waited"]).toMatchObject({ state: "failed", reason: "timeout" });
    expect(await waitGone(Number(fs.readFileSync(path.join(dir, "gc-waited.pid"), "utf8")))).toBe(true);
  });

  it("a child that closes stdout early goes on and is logged to the end", () => {
    expect(st.steps["closes-stdout"]?.state).toBe("passed");
    const text = log("closes-stdout").toString();
    expect(text).toContain("out| before close");
    expect(text).toContain("err| still running");
    expect(text).toMatch(/# \S+ exit 0 after/);
  });

  it("binary garbage is logged byte for byte and does not upset ws logs / status", () => {
    expect(st.steps.binary?.state).toBe("passed");
    const bytes = log("binary");
    expect(bytes.includes(Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d]))).toBe(true);
    const logs = ws(["logs", "--ws-id", ID, "--step", "binary"], dir);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain("end");
    expect(logs.stderr).not.toMatch(STACK_LINE);
  });

  it("a 1 MiB line (and a 3 MiB one without a newline) is logged whole, while events stay small", () => {
    expect(st.steps["long-line"]?.state).toBe("passed");
    expect(st.steps["long-unterminated"]?.state).toBe("passed");
    expect(log("long-line").includes(Buffer.from("a".repeat(1024 * 1024) + "\n"))).toBe(true);
    expect(log("long-line").toString()).toContain("out| after");
    expect(log("long-unterminated").includes(Buffer.from("a".repeat(3 * 1024 * 1024)))).toBe(true);
    // The tails carried in events are capped per line: the event log is not a copy of the output.
    const events = fs.readFileSync(path.join(stateDir(dir, ID), "events.jsonl"), "utf8");
    for (const line of events.split("\n")) expect(line.length).toBeLessThan(64 * 1024);
    expect(ws(["logs", "--ws-id", ID, "--step", "long-line"], dir).code).toBe(0);
  });

  it("8 MiB of output is logged in full", () => {
    expect(st.steps.flood?.state).toBe("passed");
    expect(log("flood").toString()).toContain("flood done");
    expect(log("flood").length).toBeGreaterThan(8 * 1024 * 1024);
  });

  it("an acceptance test that hangs and ignores SIGTERM times out and is killed", async () => {
    expect(st.steps["test-hangs"]).toMatchObject({ state: "failed", reason: "tests_failed" });
    const text = log("test-hangs", "attempt-1.test-1.log").toString();
    expect(text).toMatch(/# \S+ timeout after 1s \(SIGTERM, then SIGKILL\)/);
    expect(await waitGone(pidIn(text, /ready (\d+)/))).toBe(true);
  });

  it("an agent that hangs, ignores SIGTERM and leaves a grandchild is killed on timeout, grandchild too", async () => {
    expect(st.steps["agent-hangs"]).toMatchObject({ state: "failed", reason: "timeout" });
    const entry = JSON.parse(fs.readFileSync(path.join(dir, "tool.log"), "utf8").split("\n")[0] ?? "{}") as { grandchildPid?: number };
    expect(entry.grandchildPid).toBeGreaterThan(1);
    expect(await waitGone(entry.grandchildPid!)).toBe(true);
    expect(log("agent-hangs").toString()).toMatch(/timeout after 1s/);
  });
});
