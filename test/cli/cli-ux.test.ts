import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, ws as runWs } from "../helpers/cli.js";
import { BIN, cleanup, makeProject, readRecord, recStep, waitFor, wsAsync, type Project } from "../run/rig.js";

// Every test has its own project and spends most of its time waiting for ws: the tests run concurrently, so the cleanup waits for all of them.
afterAll(cleanup);

/** ws to completion without blocking the other tests of this file. */
const wsc = (project: Project, args: string[], env: NodeJS.ProcessEnv = {}) => wsAsync(project, args, env).done;

/** ws run from another folder than the project's (the rig always runs at the project root). */
function wsIn(project: Project, cwd: string, args: string[]) {
  return runWs(args, { cwd, env: cleanEnv({ RECORD: project.record }) });
}

describe.concurrent("finding the project and the workstream", () => {
  it("from a subfolder, finds the project root upwards (validate, run, status see the same workstreams)", async () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    const sub = path.join(p.dir, "src", "deep");
    fs.mkdirSync(sub, { recursive: true });
    const validate = wsIn(p, sub, ["validate"]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain("ok       workstreams/ci.json");
    expect(wsIn(p, sub, ["run", "ci"]).code).toBe(0);
    // State went to the root's .worktrees, not to src/deep/.worktrees.
    expect(fs.existsSync(p.state("ci"))).toBe(true);
    expect(fs.existsSync(path.join(sub, ".worktrees"))).toBe(false);
    expect(wsIn(p, sub, ["status", "ci"]).stdout).toMatch(/^ci: passed /);
  });

  it("takes the id as a positional argument, and lists the ids when none is given", async () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }, { id: "nightly", steps: [recStep("bench")] }]);
    expect((await wsc(p, ["run", "ci"])).code).toBe(0);
    expect((await wsc(p, ["graph", "ci", "--format", "json"])).code).toBe(0);
    expect((await wsc(p, ["validate", "ci"])).stdout).toContain("ok       workstreams/ci.json");
    expect((await wsc(p, ["logs", "ci"])).stdout).toContain("run ");
    expect((await wsc(p, ["export", "github", "ci", "--ws-from", `git+https://example.com/ws.git#${"0".repeat(40)}`])).stdout).toContain("jobs:");
    for (const command of [["run"], ["graph"], ["logs"], ["export", "github"], ["clean"]]) {
      const r = await wsc(p, command);
      expect(r.code, command.join(" ")).toBe(2);
      expect(r.stderr, command.join(" ")).toContain(`ws ${command.join(" ")} needs a workstream id`);
      expect(r.stderr, command.join(" ")).toContain("available: ci, nightly");
    }
    const both = await wsc(p, ["run", "ci", "--ws-id", "nightly"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("two workstream ids given");
  });
});

describe.concurrent("a closed stdout stops the output, never the work", () => {
  it("ws run | head: the run goes on to its end and its state is consistent", async () => {
    const p = makeProject([]);
    const go = path.join(p.dir, "go");
    fs.mkdirSync(path.join(p.dir, "workstreams"));
    fs.writeFileSync(
      path.join(p.dir, "workstreams", "piped.json"),
      JSON.stringify({ id: "piped", steps: [recStep("first"), recStep("waits", ["--wait-file", go], { depends_on: ["first"] }), recStep("last", [], { depends_on: ["waits"] })] }),
    );
    const { child, done } = wsAsync(p, ["run", "--ws-id", "piped"]);
    // Read the first line, then go away like `head -1` does.
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    child.stdout!.destroy();
    await waitFor("waits started", () => readRecord(p).some((l) => l.id === "waits" && l.event === "start"));
    fs.writeFileSync(go, "");
    const { code, stderr } = await done;
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|internal error/);
    expect(readRecord(p).filter((l) => l.event === "end").map((l) => l.id)).toEqual(["first", "waits", "last"]);
    const status = JSON.parse((await wsc(p, ["status", "--ws-id", "piped", "--json"])).stdout) as { status: string; interrupted: boolean };
    expect(status).toMatchObject({ status: "passed", interrupted: false });
  });

  it("ws logs | head and ws graph --format png | head end quietly", async () => {
    const steps = Array.from({ length: 40 }, (_, k) => recStep(`s${k}`, ["--say", "x".repeat(2000)]));
    const p = makeProject([{ id: "big", steps }]);
    expect((await wsc(p, ["run", "--ws-id", "big"])).code).toBe(0);
    for (const command of [`${q(BIN)} logs --ws-id big`, `${q(BIN)} logs --ws-id big --step s1`, `${q(BIN)} graph --ws-id big --format png`]) {
      const r = spawnSync("sh", ["-c", `${q(process.execPath)} ${command} | head -c 10 >/dev/null`], { cwd: p.dir, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, WS_WORKTREES_DIR: process.env.WS_WORKTREES_DIR } });
      expect(r.stderr, command).toBe("");
    }
  });
});

describe.concurrent("run what the user sees", () => {
  const SEL = {
    id: "sel",
    steps: [recStep("build"), recStep("lint", [], { depends_on: ["build"] }), recStep("deploy", [], { depends_on: ["lint"], when: "${env.DEPLOY_NOT_SET}" })],
  };

  it("warns when a selected step's dependency is neither selected nor passed; --with-deps selects it", async () => {
    const p = makeProject([SEL]);
    const only = await wsc(p, ["run", "sel", "--only", "lint"]);
    expect(only.code).toBe(0);
    expect(only.stderr).toContain("ws: warning: lint runs without build: it is not selected and has not passed in the last run (--with-deps runs it too)");
    expect(readRecord(p).map((l) => l.id)).not.toContain("build");
    const withDeps = await wsc(p, ["run", "sel", "--only", "lint", "--with-deps"]);
    expect(withDeps.code).toBe(0);
    expect(withDeps.stderr).not.toContain("warning");
    expect(readRecord(p).filter((l) => l.event === "start").map((l) => l.id)).toEqual(["lint", "build", "lint"]);
    // build passed in the last run: lint now has something to stand on.
    expect((await wsc(p, ["run", "sel", "--only", "lint"])).stderr).not.toContain("warning");
  });

  it("--dry-run marks steps whose when is false, unselected dependencies and missing tool binaries", async () => {
    const p = makeProject([{ ...SEL, steps: [...SEL.steps, { id: "ai", tool: "aider", tasks: ["x"], file_scope: ["a.txt"], depends_on: ["build"] }] }]);
    const all = await wsc(p, ["run", "sel", "--dry-run"], { WS_AIDER_BIN: "/nonexistent/aider" });
    expect(all.stdout).toContain("  skipped (when is false): deploy (when: ${env.DEPLOY_NOT_SET})");
    expect(all.stdout).toContain('  tool not found: aider (looked for "/nonexistent/aider"), needed by ai');
    // The dry run says no where the real run would: same exit code, same message.
    expect(all.code).toBe(2);
    expect(all.stderr).toContain("ws: tool not found");
    const only = await wsc(p, ["run", "sel", "--only", "lint", "--dry-run"]);
    expect(only.code).toBe(0);
    expect(only.stdout).toContain("  warning: lint runs without build");
    expect(readRecord(p)).toEqual([]);
  });
});

describe.concurrent("say what failed where the user looks", () => {
  it("prints the last lines (up to 20) of a failing attempt or test inline, and a timeout's limit", async () => {
    const p = makeProject([{
      id: "fails",
      steps: [
        { id: "missing", run: "seq 1 30; echo 'pnpm: not found' >&2; exit 127" },
        { id: "slow", run: "sleep 20", timeout: 1 },
        { id: "tested", run: "true", acceptance_tests: ["echo 'expected 3, got 4'; exit 1"] },
      ],
    }]);
    const r = await wsc(p, ["run", "fails"]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    const at = lines.findIndex((l) => l.includes("attempt 1 of missing failed: exit:127"));
    expect(lines[at + 1]).toBe("    │ last 20 lines of its output:");
    const block = lines.slice(at + 2, at + 22);
    expect(block.at(-1)).toMatch(/pnpm: not found$/);
    expect(block.every((l) => l.startsWith("    │ "))).toBe(true);
    expect(r.stdout).not.toContain("│ 10\n");
    expect(r.stdout).toContain("attempt 1 of slow failed: timeout (timed out after its 1s limit)");
    expect(r.stdout).toContain("last 2 lines of the failing acceptance test:");
    expect(r.stdout).toContain("    │ expected 3, got 4");
  });
});

describe.concurrent("the run summary", () => {
  it("prints no speedup below 1x (one step: the ratio is only start-up overhead)", async () => {
    const p = makeProject([{ id: "one", steps: [recStep("only")] }]);
    const r = await wsc(p, ["run", "one"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/one: passed in \S+; step times summed: \S+\n/);
    expect(r.stdout).not.toMatch(/\d\.\d\dx/);
  });
});

describe.concurrent("ws graph -o", () => {
  it("infers the format from the file's extension", async () => {
    const p = makeProject([{ id: "ci", steps: [recStep("lint")] }]);
    for (const [file, check] of [
      ["g.png", (b: Buffer) => b.subarray(1, 4).toString() === "PNG"],
      ["g.svg", (b: Buffer) => b.toString().includes("<svg")],
      ["g.dot", (b: Buffer) => b.toString().startsWith("digraph")],
      ["g.mmd", (b: Buffer) => b.toString().includes("flowchart")],
      ["g.json", (b: Buffer) => (JSON.parse(b.toString()) as { wsId: string }).wsId === "ci"],
    ] as const) {
      expect((await wsc(p, ["graph", "ci", "-o", file])).code).toBe(0);
      expect(check(fs.readFileSync(path.join(p.dir, file))), file).toBe(true);
    }
    // --format still wins over the extension.
    expect((await wsc(p, ["graph", "ci", "-o", "g.txt", "--format", "dot"])).code).toBe(0);
    expect(fs.readFileSync(path.join(p.dir, "g.txt"), "utf8")).toMatch(/^digraph/);
  });
});

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
