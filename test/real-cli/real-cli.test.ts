import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startWs } from "../helpers/cli.js";
import { agentProject, cleanup, events, git, outcomes, readState, tempDir, type AgentProject, type EventLine } from "../agents/rig.js";
import { closedPort, startFakeApi, type FakeApi, type Script } from "./fake-api.js";
import { sandboxProblem } from "../../src/proc/sandbox.js";

/**
 * The real agent CLIs (pinned in versions.json, installed by install.mjs outside the project)
 * driven through `ws run` against a fake model API on 127.0.0.1, with HOME in a temp folder.
 * In CI a missing install fails this suite; elsewhere it is skipped with the reason printed.
 */
const PINNED = JSON.parse(fs.readFileSync(new URL("./versions.json", import.meta.url), "utf8")) as Record<string, string>;
const CLI_DIR = process.env.WS_REAL_CLI_DIR || path.join(os.homedir(), ".cache", "ws-real-clis");
const CLI_BIN = path.join(CLI_DIR, "node_modules", ".bin");
const IN_CI = Boolean(process.env.CI) && process.env.CI !== "false";

function installedVersion(name: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(CLI_DIR, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
}
const MISSING = Object.entries(PINNED).filter(([name, v]) => installedVersion(name) !== v).map(([name, v]) => `${name}@${v}`);
const SKIP = MISSING.length > 0 && !IN_CI;
if (SKIP) console.warn(`real-CLI suite skipped: ${MISSING.join(", ")} not installed in ${CLI_DIR} (run: node test/real-cli/install.mjs)`);

const servers: FakeApi[] = [];
async function api(script: Script): Promise<FakeApi> {
  const server = await startFakeApi(script);
  servers.push(server);
  return server;
}

/** A fresh HOME per run: the tests run concurrently, and the CLIs write their config files there. */
function freshHome(): string {
  const home = tempDir("ws-real-home-");
  // The user's own Gemini settings, as after `gemini` was set up with a key. ws passes the same two
  // as system defaults, but Gemini skips a system defaults file below a world-writable folder
  // ("Parent directory '/tmp' is insecure"), and this suite's projects live under /tmp.
  fs.mkdirSync(path.join(home, ".gemini"));
  fs.writeFileSync(path.join(home, ".gemini", "settings.json"), JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } }, general: { maxAttempts: 2 } }));
  return home;
}
afterAll(cleanup);
const CODEX_HOMES = path.join(CLI_DIR, "codex-homes", String(process.pid));
afterAll(() => fs.rmSync(CODEX_HOMES, { recursive: true, force: true }));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** `ws run` of the built binary, asynchronously: the fake API answers from this process meanwhile. */
function runWs(project: AgentProject, extra: string[] = [], moreEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const env: NodeJS.ProcessEnv = {
    ...moreEnv,
    PATH: `${CLI_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
    HOME: freshHome(),
    WS_WORKTREES_DIR: process.env.WS_WORKTREES_DIR,
    CI: "true",
    ANTHROPIC_API_KEY: "sk-ant-fake-key",
    GEMINI_API_KEY: "fake-gemini-key",
    FAKE_OPENAI_KEY: "fake-openai-key",
    // Nothing but the fake API: no telemetry, update checks or error reporting to the real hosts.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    // Gemini re-executes itself for a bigger heap; skipping that halves its start-up here.
    GEMINI_CLI_NO_RELAUNCH: "true",
  };
  const started = Date.now();
  const running = startWs(["run", "--ws-id", project.wsId, ...extra], { cwd: project.dir, env });
  // A safety net against a hung run, never a speed assertion.
  const timer = setTimeout(() => running.child.kill("SIGKILL"), 170_000);
  return running.done.then(({ code, stdout, stderr }) => {
    clearTimeout(timer);
    return { code, stdout, stderr, ms: Date.now() - started };
  });
}

/** A codex home whose provider is the fake API (codex-rs/core/src/model_provider_info.rs: base_url, env_key, wire_api). */
function codexHome(baseUrl: string): string {
  // Not below /tmp: codex 0.171 refuses to put its sandbox helper (codex-linux-sandbox) in a
  // temporary folder, and without it every command it runs fails before it starts.
  fs.mkdirSync(CODEX_HOMES, { recursive: true });
  const dir = fs.mkdtempSync(path.join(CODEX_HOMES, "home-"));
  fs.writeFileSync(
    path.join(dir, "config.toml"),
    [
      'model = "gpt-fake"',
      'model_provider = "fake"',
      "[model_providers.fake]",
      'name = "fake"',
      `base_url = "${baseUrl}/v1"`,
      'env_key = "FAKE_OPENAI_KEY"',
      'wire_api = "responses"',
      "",
    ].join("\n"),
  );
  return dir;
}

/**
 * A codex home whose built-in OpenAI provider talks to `baseUrl` (`openai_base_url`; 0.171
 * ignores OPENAI_BASE_URL): its WebSocket transport, whose offline lines differ from a custom
 * provider's.
 */
function codexBuiltInHome(baseUrl: string): string {
  fs.mkdirSync(CODEX_HOMES, { recursive: true });
  const dir = fs.mkdtempSync(path.join(CODEX_HOMES, "home-"));
  fs.writeFileSync(path.join(dir, "config.toml"), `openai_base_url = "${baseUrl}/v1"\n`);
  return dir;
}

/** The step env that points one tool at one fake API. */
function pointAt(tool: string, url: string): Record<string, string> {
  if (tool === "claude") return { ANTHROPIC_BASE_URL: url };
  if (tool === "codex") return { CODEX_HOME: codexHome(url) };
  return { GOOGLE_GEMINI_BASE_URL: url };
}

const stepEnd = (project: AgentProject, step: string): EventLine | undefined => events(project).find((e) => e.type === "step-end" && e.step === step);
const BIG = "Context, to be read in full: " + "lorem ipsum dolor sit amet ".repeat(40_000);
/**
 * codex-cli 0.171 refuses input over 1,048,576 characters itself ("input_too_large", before any
 * request): its big prompt stays just under that, still far past the 128 KiB an argv element holds.
 */
const BIG_FOR = (tool: string) => (tool === "codex" ? BIG.slice(0, 1_040_000) : BIG);

// Each test spawns real CLIs several times (gemini alone starts in 5-15 s on a loaded 2-core machine).
// Concurrent: the runs mostly wait (start-up, backoffs, the fake API), so the suite costs about its longest test.
describe.skipIf(SKIP)("the real agent CLIs through ws run", { timeout: 300_000, concurrent: true }, () => {
  // In CI a missing install is not skipped: this fails (and so does every test below).
  it("the pinned CLIs are installed", () => {
    expect(MISSING, `run: node test/real-cli/install.mjs (into ${CLI_DIR})`).toEqual([]);
  });

  it("claude: 429 parks the tool (no retry spent), then a scripted Write lands, passes its test and is committed; 1 MiB prompt; no network fails fast", async () => {
    const project = agentProject({ id: "ws-real-claude", steps: [] });
    // The step's own worktree, outside the project (each step has one; this is the first).
    const target = path.join(project.tree, "hello.txt");
    // Two: the first call and the one retry Claude Code makes by itself (CLAUDE_CODE_MAX_RETRIES=1).
    const limited = await api({ fail: { status: 429, retryAfterS: 1 }, failFirst: 2, write: { path: target, content: "hello\n" } });
    const port = await closedPort();
    writeWorkstream(project, {
      id: "ws-real-claude",
      circuit_breaker: { cooldown: 2 },
      steps: [
        {
          id: "write",
          tool: "claude",
          tasks: ["Create hello.txt containing the single line: hello", BIG],
          file_scope: ["hello.txt"],
          retries: 0,
          timeout: 120,
          env: pointAt("claude", limited.url),
          acceptance_tests: ["grep -qx hello hello.txt"],
        },
        // After "write": the scripted Write names an absolute path in the first step's worktree (lane-1).
        { id: "offline", tool: "claude", tasks: ["anything"], file_scope: ["offline.txt"], retries: 0, timeout: 120, depends_on: ["write"], env: { ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` } },
      ],
    });
    const r = await runWs(project);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    // Where bwrap works (CI installs it) the real CLI ran in the default agent sandbox, and still did its job.
    expect(r.stdout).toContain(sandboxProblem("bwrap", true) === undefined ? "agent steps run sandboxed (bubblewrap)" : "no sandbox for agent steps");
    const o = outcomes(project);
    expect(o.write).toEqual(["passed", 2, "passed"]);
    expect(o.offline).toEqual(["failed", 1, "network"]);
    const first = events(project).find((e) => e.type === "attempt-end" && e.step === "write");
    expect([first?.reason, first?.free]).toEqual(["quota", true]);
    expect(events(project).some((e) => e.type === "breaker" && e.tool === "claude" && e.state === "open")).toBe(true);
    // The 1 MiB prompt reached the API, and the file the API asked for was written and committed.
    expect(Math.max(...limited.modelCalls().map((c) => c.bytes))).toBeGreaterThan(1024 * 1024);
    const commit = readState(project).steps.write?.commit ?? "";
    expect(git(project.dir, "show", `${commit}:hello.txt`)).toBe("hello");
    console.log(`real claude: quota + write + offline run took ${r.ms} ms`);
  });

  /**
   * Several tool calls in a row, usage on each answer: each CLI's stream becomes ws's activity
   * events in order, in --json and in events.jsonl, with the usage growing as it streams.
   */
  const ACTIVITY: Record<string, { calls: (tree: string) => Array<{ name: string; input: Record<string, unknown> }>; expected: Array<[string, string]> }> = {
    claude: {
      calls: (tree) => [
        { name: "Read", input: { file_path: path.join(tree, "README.md") } },
        { name: "Glob", input: { pattern: "*.md" } },
        { name: "Write", input: { file_path: path.join(tree, "hello.txt"), content: "hello\n" } },
        { name: "Bash", input: { command: "ls -la", description: "list files" } },
      ],
      expected: [["read", "Read README.md"], ["read", "Glob *.md"], ["edit", "Write hello.txt"], ["command", "Bash: ls -la"], ["message", "Done."]],
    },
    gemini: {
      calls: (tree) => [
        { name: "read_file", input: { file_path: path.join(tree, "README.md") } },
        { name: "list_directory", input: { dir_path: tree } },
        { name: "write_file", input: { file_path: path.join(tree, "hello.txt"), content: "hello\n" } },
      ],
      expected: [["read", "read_file README.md"], ["read", "list_directory ."], ["edit", "Write hello.txt"], ["message", "Done."]],
    },
    codex: {
      calls: () => [
        { name: "exec_command", input: { cmd: "cat README.md" } },
        { name: "exec_command", input: { cmd: "echo hello > hello.txt" } },
        { name: "exec_command", input: { cmd: "ls" } },
      ],
      expected: [["command", "$ /bin/bash -lc 'cat README.md'"], ["command", "$ /bin/bash -lc 'echo hello > hello.txt'"], ["command", "$ /bin/bash -lc ls"], ["message", "Done."]],
    },
  };

  it.each(Object.keys(ACTIVITY))("%s: several tool calls in a row become activity events in order (--json, events.jsonl), usage growing", async (tool) => {
    const project = agentProject({ id: `ws-real-act-${tool}`, steps: [] });
    const spec = ACTIVITY[tool]!;
    const server = await api({ calls: spec.calls(project.tree) });
    writeWorkstream(project, {
      id: `ws-real-act-${tool}`,
      steps: [{ id: "act", tool, tasks: ["Create hello.txt containing: hello"], file_scope: ["hello.txt"], retries: 0, timeout: 150, env: pointAt(tool, server.url) }],
    });
    const r = await runWs(project, ["--json"]);
    const printed = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as EventLine);
    const acts = (lines: EventLine[]) => lines.filter((e) => e.type === "activity").map((e) => [String(e.kind), String(e.text)]);
    expect(acts(printed), `${attemptLogs(project, "act")}\noffered: ${server.modelCalls()[0]?.tools?.join(",")}`).toEqual(spec.expected);
    expect(acts(events(project))).toEqual(spec.expected);
    const tokens = events(project).filter((e) => e.type === "activity").map((e) => {
      const u = e.usage as { inputTokens?: number; outputTokens?: number } | undefined;
      return (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0);
    });
    // Never shrinking; and it grew while the attempt ran (Claude streams each call's usage, the others ws's estimate).
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(tokens.at(-1)).toBeGreaterThan(tokens[0] ?? 0);
    expect(server.modelCalls().length).toBeGreaterThanOrEqual(spec.calls(project.tree).length + 1);
    console.log(`real ${tool}: ${spec.expected.length} activities in ${r.ms} ms`);
  });

  it("claude installed into an npm prefix under /tmp and named by WS_CLAUDE_BIN (a .bin link) runs in the default sandbox", async () => {
    // The prefix as `npm install --prefix /tmp/…` lays it out; hard links, not a 400 MB copy.
    const prefix = fs.mkdtempSync("/tmp/ws-clis-");
    try {
      fs.mkdirSync(path.join(prefix, "node_modules", ".bin"), { recursive: true });
      execFileSync("cp", ["-al", path.join(CLI_DIR, "node_modules", "@anthropic-ai"), path.join(prefix, "node_modules", "@anthropic-ai")]);
      fs.symlinkSync(fs.readlinkSync(path.join(CLI_BIN, "claude")), path.join(prefix, "node_modules", ".bin", "claude"));
      const project = agentProject({ id: "ws-real-claude-prefix", steps: [] });
      const target = path.join(project.tree, "hello.txt");
      const scripted = await api({ write: { path: target, content: "hello\n" } });
      writeWorkstream(project, {
        id: "ws-real-claude-prefix",
        steps: [{ id: "write", tool: "claude", tasks: ["Create hello.txt containing: hello"], file_scope: ["hello.txt"], retries: 0, timeout: 120, env: pointAt("claude", scripted.url), acceptance_tests: ["grep -qx hello hello.txt"] }],
      });
      const r = await runWs(project, [], { WS_CLAUDE_BIN: path.join(prefix, "node_modules", ".bin", "claude") });
      expect(r.stdout + r.stderr).not.toContain("execvp");
      expect(r.code, r.stdout + r.stderr).toBe(0);
      if (sandboxProblem("bwrap", true) === undefined) expect(r.stdout).toContain("agent steps run sandboxed (bubblewrap)");
      expect(outcomes(project).write).toEqual(["passed", 1, "passed"]);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });

  it("claude: 401 is auth, not retried, and the tool's other steps are blocked with the fix", async () => {
    const denied = await api({ fail: { status: 401 } });
    const project = agentProject({ id: "ws-real-claude-auth", steps: [] });
    writeWorkstream(project, {
      id: "ws-real-claude-auth",
      execution: { max_workers: 1 },
      steps: [
        { id: "a1", tool: "claude", tasks: ["one"], file_scope: ["a1.txt"], retries: 2, env: pointAt("claude", denied.url) },
        { id: "a1-next", tool: "shell", run: "true", depends_on: ["a1"] },
        { id: "a2", tool: "claude", tasks: ["two"], file_scope: ["a2.txt"], retries: 2, env: pointAt("claude", denied.url) },
      ],
    });
    const r = await runWs(project);
    expect(r.code).toBe(1);
    expect(outcomes(project)).toMatchObject({ a1: ["failed", 1, "auth"], a2: ["blocked", 0, "auth"] });
    expect(String(stepEnd(project, "a2")?.detail)).toContain("ANTHROPIC_API_KEY");
    // One attempt by ws; Claude Code's own client may repeat the call once (CLAUDE_CODE_MAX_RETRIES=1).
    expect(denied.modelCalls().length).toBeLessThanOrEqual(2);
    console.log(`real claude: auth run took ${r.ms} ms`);
  });

  it.each(["codex", "gemini"])("%s: 429 is quota (breaker open, no retry spent); the 1 MiB prompt reaches the API; 401 is auth", async (tool) => {
    const limited = await api({ fail: { status: 429, retryAfterS: 1 } });
    const denied = await api({ fail: { status: 401 } });
    const project = agentProject({ id: `ws-real-${tool}`, steps: [] });
    writeWorkstream(project, {
      id: `ws-real-${tool}`,
      // The fake answers 429 for ever: past max_wait the run ends with the step parked (state kept for --resume).
      circuit_breaker: { cooldown: 600, max_wait: 1 },
      execution: { max_workers: 1 },
      steps: [
        { id: "quota", tool, tasks: ["Create q.txt", BIG_FOR(tool)], file_scope: ["q.txt"], retries: 0, timeout: 150, env: pointAt(tool, limited.url) },
      ],
    });
    const r = await runWs(project);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const o = outcomes(project);
    const quotaEnd = events(project).find((e) => e.type === "attempt-end" && e.step === "quota");
    expect([quotaEnd?.reason, quotaEnd?.free], attemptLogs(project, "quota")).toEqual(["quota", true]);
    expect(o.quota).toEqual(["cancelled", 1, "quota"]);
    expect(String(stepEnd(project, "quota")?.detail)).toMatch(/^waiting \(quota, until \d\d:\d\d\)/);
    expect(events(project).some((e) => e.type === "breaker" && e.tool === tool && e.state === "open")).toBe(true);
    expect(Math.max(...limited.modelCalls().map((c) => c.bytes))).toBeGreaterThan(1_000_000);

    const authProject = agentProject({ id: `ws-real-${tool}-auth`, steps: [] });
    writeWorkstream(authProject, {
      id: `ws-real-${tool}-auth`,
      execution: { max_workers: 1 },
      steps: [
        { id: "a1", tool, tasks: ["x"], file_scope: ["a1.txt"], retries: 2, timeout: 150, env: pointAt(tool, denied.url) },
        { id: "a1-next", tool: "shell", run: "true", depends_on: ["a1"] },
        { id: "a2", tool, tasks: ["y"], file_scope: ["a2.txt"], retries: 2, timeout: 150, env: pointAt(tool, denied.url) },
      ],
    });
    const auth = await runWs(authProject);
    expect(auth.code).toBe(1);
    expect(outcomes(authProject).a1, attemptLogs(authProject, "a1")).toEqual(["failed", 1, "auth"]);
    expect(outcomes(authProject).a2).toEqual(["blocked", 0, "auth"]);
    console.log(`real ${tool}: quota run took ${r.ms} ms, auth run ${auth.ms} ms`);
  });

  /**
   * Issue 31: no network ends the run fast and once. Each CLI is pointed at a closed port on
   * 127.0.0.1 (connection refused) or at a name that cannot resolve (DNS): both fail on this
   * machine, nothing leaves it. Offline, codex 0.171 reconnects for ever and gemini 0.61 retries
   * for minutes; ws stops each at its first such line, spends none of the `retries: 2`, and
   * starts none of the tool's other steps.
   */
  it.each([
    ["a closed port", "refused"],
    ["an unknown host", "dns"],
  ])("no network (%s): claude, codex and gemini each end network at their first such line; no retry, their other steps not attempted", async (_what, kind) => {
    const url = kind === "dns" ? "http://ws-no-such-host.invalid" : `http://127.0.0.1:${await closedPort()}`;
    const host = new URL(url).host;
    const id = `ws-real-offline-${kind}`;
    const project = agentProject({ id, steps: [] });
    const tools = ["claude", "codex", "gemini"];
    // Codex through a custom provider (HTTP) for the closed port, its built-in one (WebSocket first) for the unknown host.
    const envFor = (tool: string) => (tool === "codex" && kind === "dns" ? { CODEX_HOME: codexBuiltInHome(url) } : pointAt(tool, url));
    writeWorkstream(project, {
      id,
      // The three CLIs at once; each tool's second step shares its first's file_scope, so it waits
      // for the first (serialize) and then is never attempted.
      execution: { max_workers: 3, file_conflicts: "serialize" },
      steps: tools.flatMap((tool) => [
        // The longer path: it starts before its tool's second step.
        { id: tool, tool, tasks: ["x"], file_scope: [`${tool}.txt`], retries: 2, timeout: 150, env: envFor(tool) },
        { id: `${tool}-next`, tool: "shell", run: "true", depends_on: [tool] },
        { id: `${tool}-2`, tool, tasks: ["y"], file_scope: [`${tool}.txt`], retries: 2, timeout: 150, env: envFor(tool) },
      ]),
    });
    const r = await runWs(project);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const o = outcomes(project);
    for (const tool of tools) {
      expect(o[tool], attemptLogs(project, tool)).toEqual(["failed", 1, "network"]);
      expect(o[`${tool}-2`]).toEqual(["blocked", 0, "network"]);
      expect(String(stepEnd(project, tool)?.detail)).toContain(`could not reach ${host}`);
      expect(String(stepEnd(project, `${tool}-2`)?.detail)).toContain(`continue with: ws run --ws-id ${id} --resume`);
      expect(r.stdout).toContain(`${tool} could not reach ${host}: no step uses ${tool} for the rest of this run`);
    }
    expect(events(project).filter((e) => e.type === "attempt-end").map((e) => e.step).sort()).toEqual(tools);
    // Stopped at the first line of their reconnect loops.
    const log = (tool: string) => fs.readFileSync(path.join(project.stepDir(tool), "attempt-1.log"), "utf8");
    expect(log("codex").match(/Reconnecting\.\.\./g), log("codex")).toHaveLength(1);
    expect(log("gemini").match(/Retrying with backoff/g), log("gemini")).toHaveLength(1);
    const end = events(project).find((e) => e.type === "run-end");
    console.log(`real CLIs offline (${kind}): the run took ${String(end?.durationMs)} ms (${r.ms} ms with ws's start)`);
  });
});

/** A failing assertion shows what the CLI printed. */
function attemptLogs(project: AgentProject, step: string): string {
  const dir = project.stepDir(step);
  if (!fs.existsSync(dir)) return `(no logs for ${step})`;
  return fs.readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, f), "utf8").slice(-3000)}`).join("\n");
}

function writeWorkstream(project: AgentProject, doc: Record<string, unknown>): void {
  fs.writeFileSync(path.join(project.dir, "workstreams", `${project.wsId}.json`), JSON.stringify(doc, null, 2) + "\n");
  git(project.dir, "add", "-A");
  git(project.dir, "commit", "-qm", "workstream");
}
