import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { agentProject, cleanup, git, outcomes, readState, run } from "../agents/rig.js";
import { cleanEnv, startWs } from "../helpers/cli.js";

// isolation "sandbox": each attempt under bubblewrap, only the worktree (and the step's state
// folder) writable, a private /tmp, the network only when allowed.

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  cleanup();
});

const FIXTURES = fileURLToPath(new URL("../fixtures/proc/", import.meta.url));
const bwrapWorks = spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]).status === 0;

const node = (code: string) => `${process.execPath} -e '${code}'`;

describe.runIf(bwrapWorks)("ws run with isolation sandbox", () => {
  it("a step writes its worktree, but not the checkout, not another folder: EROFS, and nothing is written", () => {
    const project = agentProject({ id: "ws-box", execution: { isolation: "sandbox" }, steps: [] });
    const outside = path.join(project.dir, "planted.txt");
    // Outside /tmp (the sandbox's /tmp is private, so a write there lands in the sandbox only).
    const elsewhere = fs.mkdtempSync(path.join(os.homedir(), ".ws-box-elsewhere-"));
    scratch.push(elsewhere);
    const wsFile = path.join(project.dir, "workstreams", "ws-box.json");
    fs.writeFileSync(
      wsFile,
      JSON.stringify({
        id: "ws-box",
        execution: { isolation: "sandbox", max_workers: 1 },
        steps: [
          { id: "inside", run: "echo ok > made.txt && echo tmp > /tmp/private.txt", file_scope: ["made.txt"] },
          { id: "checkout", run: `echo pwned > ${outside}`, depends_on: ["inside"] },
          { id: "elsewhere", run: `echo pwned > ${elsewhere}/planted.txt`, depends_on: ["inside"] },
          { id: "hook", run: `echo "echo pwned" > ${project.dir}/.git/hooks/pre-commit`, depends_on: ["inside"] },
          { id: "test", run: "true", acceptance_tests: [`echo pwned > ${elsewhere}/by-test.txt`], depends_on: ["inside"] },
        ],
      }),
    );
    git(project.dir, "add", "-A");
    git(project.dir, "commit", "-qm", "workstream");
    const r = run(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toMatchObject({ inside: ["passed", 1, "passed"], checkout: ["failed", 1, "exit:2"], elsewhere: ["failed", 1, "exit:2"], hook: ["failed", 1, "exit:2"], test: ["failed", 1, "tests_failed"] });
    for (const step of ["checkout", "elsewhere", "hook"]) {
      expect(fs.readFileSync(path.join(project.stepDir(step), "attempt-1.log"), "utf8"), step).toMatch(/Read-only file system/);
    }
    expect(fs.existsSync(outside)).toBe(false);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(fs.existsSync(path.join(project.dir, ".git", "hooks", "pre-commit"))).toBe(false);
    expect(fs.existsSync("/tmp/private.txt")).toBe(false);
    expect(git(project.dir, "show", `${readState(project).branch ?? "ws/ws-box"}:made.txt`).trim()).toBe("ok");
  });

  it("a tool given as npm's .bin link below /tmp runs: the sandbox mounts the package it resolves to, not only the link's folder", () => {
    const prefix = fs.mkdtempSync("/tmp/ws-clis-");
    scratch.push(prefix);
    const bin = path.join(prefix, "node_modules", "fake-agent", "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "agent.exe"), "#!/bin/sh\necho made-by-agent > made.txt\n", { mode: 0o755 });
    fs.mkdirSync(path.join(prefix, "node_modules", ".bin"));
    fs.symlinkSync("../fake-agent/bin/agent.exe", path.join(prefix, "node_modules", ".bin", "agent"));
    const project = agentProject({
      id: "ws-link",
      execution: { isolation: "sandbox" },
      tools: { linked: { command: path.join(prefix, "node_modules", ".bin", "agent"), args: [] } },
      steps: [{ id: "edit", tool: "linked", tasks: ["make it"], file_scope: ["made.txt"] }],
    });
    const r = run(project);
    expect(r.stdout + r.stderr).not.toContain("execvp");
    expect(outcomes(project)).toMatchObject({ edit: ["passed", 1, "passed"] });
    expect(git(project.dir, "show", `${readState(project).branch ?? "ws/ws-link"}:made.txt`).trim()).toBe("made-by-agent");
  });

  it("a tool the sandbox cannot start (its interpreter below /tmp, not mounted) is one spawn_error naming the path, no retry", () => {
    const prefix = fs.mkdtempSync("/tmp/ws-interp-");
    scratch.push(prefix);
    fs.mkdirSync(path.join(prefix, "venv", "bin"), { recursive: true });
    fs.copyFileSync("/bin/sh", path.join(prefix, "venv", "bin", "sh"));
    fs.chmodSync(path.join(prefix, "venv", "bin", "sh"), 0o755);
    const tool = path.join(prefix, "tool", "agent");
    fs.mkdirSync(path.dirname(tool));
    fs.writeFileSync(tool, `#!${path.join(prefix, "venv", "bin", "sh")}\necho hi\n`, { mode: 0o755 });
    const project = agentProject({
      id: "ws-unstartable",
      execution: { isolation: "sandbox" },
      tools: { stuck: { command: tool, args: [] } },
      steps: [{ id: "edit", tool: "stuck", tasks: ["x"], file_scope: ["x.txt"], retries: 2 }],
    });
    const r = run(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toMatchObject({ edit: ["failed", 1, "spawn_error"] });
    expect(r.stdout).toContain(`the sandbox cannot start ${tool}: No such file or directory inside it`);
  });

  it("network false cuts a loopback connection to a server outside the sandbox; the default lets it through", async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const connect = node(`require("net").connect(${port}, "127.0.0.1").on("connect", () => { console.log("connected"); process.exit(0) }).on("error", (e) => { console.log("error " + e.code); process.exit(1) })`);
      for (const network of [false, true]) {
        const project = agentProject({ id: "ws-net", execution: { isolation: "sandbox", sandbox: { network } }, steps: [{ id: "call", run: connect }] });
        const r = await runAsync(project.dir, ["run", "--ws-id", "ws-net"]);
        const log = fs.readFileSync(path.join(project.stepDir("call"), "attempt-1.log"), "utf8");
        if (network) {
          expect(r, log).toBe(0);
          expect(log).toContain("connected");
        } else {
          expect(r, log).toBe(1);
          expect(log).toMatch(/error ECONNREFUSED/);
        }
      }
    } finally {
      server.close();
    }
  });
});

describe("ws run with isolation sandbox where bwrap cannot run", () => {
  it.runIf(bwrapWorks)("a sandbox.writable folder that does not exist: exit 2 naming it", () => {
    const project = agentProject({ id: "ws-nodir", execution: { isolation: "sandbox", sandbox: { writable: ["/nonexistent/ws-cache"] } }, steps: [{ id: "s", run: "true" }] });
    const r = run(project);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/execution\.sandbox\.writable names \/nonexistent\/ws-cache, which is not a folder/);
    expect(r.stderr).toMatch(/fix: create it/);
  });

  it.each([
    ["is missing", "/nonexistent/bwrap", /package "bubblewrap"\) is not installed/],
    ["cannot create namespaces", path.join(FIXTURES, "bwrap-no-userns.sh"), /cannot create a sandbox here: .*does not allow non-privileged user namespaces/],
  ])("bwrap %s: exit 2 before anything runs, naming the package and the fix", (_what, bwrap, message) => {
    const project = agentProject({ id: "ws-nobox", execution: { isolation: "sandbox" }, steps: [{ id: "s", run: "touch ran.txt" }] });
    const r = run(project, [], { WS_BWRAP_BIN: bwrap });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/workstreams\/ws-nobox\.json: execution\.isolation "sandbox"/);
    expect(r.stderr).toMatch(/apt-get install bubblewrap/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(fs.existsSync(path.join(project.state, "events.jsonl"))).toBe(false);
    expect(fs.existsSync(path.join(project.dir, "ran.txt"))).toBe(false);
  });
});

describe("WS_BWRAP=none (issue 31: CI runs the fault suite so, as on macOS)", () => {
  it("hides bwrap as if it were not installed: a sandbox run is exit 2, agent steps run unsandboxed and the header says so", () => {
    const boxed = agentProject({ id: "ws-hidden", execution: { isolation: "sandbox" }, steps: [{ id: "s", run: "touch ran.txt" }] });
    const refused = run(boxed, [], { WS_BWRAP: "none" });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/bwrap is hidden by WS_BWRAP=none/);
    const agents = agentProject({ id: "ws-agents", tools: { t: { command: "/bin/sh", args: ["-c", "echo ok > ok.txt"] } }, steps: [{ id: "s", tool: "t", tasks: ["x"], file_scope: ["ok.txt"] }] });
    const r = run(agents, [], { WS_BWRAP: "none" });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no sandbox for agent steps: bwrap is hidden by WS_BWRAP=none/);
  });
});

/** ws in the background: the test's server answers from this process's event loop, which spawnSync would block. */
function runAsync(cwd: string, args: string[]): Promise<number | null> {
  return startWs(args, { cwd, env: cleanEnv() }).done.then((r) => r.code);
}
