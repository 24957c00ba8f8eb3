import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN, cleanEnv, ws } from "../helpers/cli.js";

/**
 * The README's install commands, as a user runs them: pack ws, put the tarball in the project
 * (vendor/, committed, so a teammate's clone and a worktree's setup have it too), install it
 * with each package manager, and run `ws run` through that manager. It catches a `files` list
 * that forgets something the built binary needs at run time (schemas, fonts), a bin that does
 * not resolve, and a README command that does not work. `npm pack` skips `prepare` (dist is built
 * before the tests). One install per manager; every cache is inside the temp root, and the
 * timeouts allow for a slow registry (an install takes seconds here, minutes on a bad day).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-pack-")));
const INSTALL_MS = 300_000;
const PNPM = "pnpm@9.15.9";
const YARN_CLASSIC = "yarn@1.22.22";
const YARN_BERRY = "@yarnpkg/cli-dist@4.9.2";

afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** The developer's environment (its npm settings: a CA file, a proxy) with every cache and store moved into the temp root. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    npm_config_cache: path.join(temp, "npm-cache"),
    npm_config_store_dir: path.join(temp, "pnpm-store"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    XDG_CACHE_HOME: path.join(temp, "xdg-cache"),
    XDG_DATA_HOME: path.join(temp, "xdg-data"),
    XDG_STATE_HOME: path.join(temp, "xdg-state"),
    YARN_CACHE_FOLDER: path.join(temp, "yarn-cache"),
    YARN_ENABLE_GLOBAL_CACHE: "false",
    YARN_ENABLE_TELEMETRY: "0",
    // The npm registry itself, not yarn's mirror of it.
    YARN_NPM_REGISTRY_SERVER: "https://registry.npmjs.org",
    YARN_REGISTRY: "https://registry.npmjs.org",
    ...extra,
  };
}

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", env: env(), timeout: INSTALL_MS });
}

/** A command to completion; its output in the failure message. */
function sh(cmd: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: env(extra), timeout: INSTALL_MS });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", all: `${cmd} ${args.join(" ")}: ${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

let tarball: string | undefined;
/** `npm pack` once for every test. */
function pack(): string {
  tarball ??= path.join(temp, npm(["pack", "--ignore-scripts", "--pack-destination", temp], ROOT).trim().split("\n").at(-1)!);
  return tarball;
}

const HELLO = { id: "hello", execution: { isolation: "none" }, steps: [{ id: "write", tool: "shell", run: "echo hi > out.txt" }, { id: "check", tool: "shell", run: "test -s out.txt", depends_on: ["write"] }] };

/** A user's project: package.json (with `fields`), a workstream, and the tarball at vendor/ws-orchestrator.tgz. */
function userProject(name: string, fields: object | undefined): string {
  const dir = path.join(temp, name);
  fs.mkdirSync(path.join(dir, "workstreams"), { recursive: true });
  fs.mkdirSync(path.join(dir, "vendor"));
  fs.copyFileSync(pack(), path.join(dir, "vendor/ws-orchestrator.tgz"));
  if (fields) fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true, ...fields }));
  fs.writeFileSync(path.join(dir, "workstreams", "hello.json"), JSON.stringify(HELLO));
  return dir;
}

/** `ws run hello` passed and did its work. */
function expectRan(r: ReturnType<typeof sh>, dir: string): void {
  expect(r.status, r.all).toBe(0);
  expect(r.stdout).toContain("hello: passed");
  expect(fs.readFileSync(path.join(dir, "out.txt"), "utf8")).toBe("hi\n");
  fs.rmSync(path.join(dir, "out.txt"));
}

describe("installing ws from a packed tarball, with each package manager", () => {
  it("npm: npm install -D ./vendor/ws-orchestrator.tgz, then npx ws run (and the ws-orchestrator bin)", () => {
    const project = userProject("npm-project", {});
    npm(["install", "-D", "./vendor/ws-orchestrator.tgz", "--prefer-offline"], project);
    expect(JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")).devDependencies).toEqual({ "ws-orchestrator": "file:vendor/ws-orchestrator.tgz" });
    expectRan(sh("npx", ["ws", "run", "hello"], project), project);
    // The second name cannot collide with npm's unrelated `ws` package.
    const other = sh("npx", ["ws-orchestrator", "validate", "hello"], project);
    expect(other.status, other.all).toBe(0);
    expect(other.stdout).toContain("ok       workstreams/hello.json");
  }, INSTALL_MS * 2);

  it("pnpm: pnpm add -D ./vendor/ws-orchestrator.tgz, then pnpm exec ws run", () => {
    const project = userProject("pnpm-project", { packageManager: PNPM });
    const add = sh("npx", ["--yes", PNPM, "add", "-D", "./vendor/ws-orchestrator.tgz"], project);
    expect(add.status, add.all).toBe(0);
    expect(fs.readFileSync(path.join(project, "pnpm-lock.yaml"), "utf8")).toContain("ws-orchestrator@file:vendor/ws-orchestrator.tgz");
    expectRan(sh("npx", ["--yes", PNPM, "exec", "ws", "run", "hello"], project), project);
    // The export finds it: the jobs install with pnpm and run it through pnpm exec.
    const exported = sh(process.execPath, [BIN, "export", "github", "hello"], project);
    expect(exported.status, exported.all).toBe(0);
    expect(exported.stdout).toContain("pnpm install --frozen-lockfile");
    expect(exported.stdout).toContain("run: pnpm exec ws-orchestrator run --ws-id 'hello' --only 'write'");
  }, INSTALL_MS * 2);

  it("yarn 1: yarn add -D file:./vendor/ws-orchestrator.tgz, then yarn ws run", () => {
    const project = userProject("yarn-classic-project", {});
    const add = sh("npx", ["--yes", YARN_CLASSIC, "add", "-D", "file:./vendor/ws-orchestrator.tgz"], project);
    expect(add.status, add.all).toBe(0);
    expect(fs.readFileSync(path.join(project, "yarn.lock"), "utf8")).toContain("ws-orchestrator@file:./vendor/ws-orchestrator.tgz");
    expectRan(sh("npx", ["--yes", YARN_CLASSIC, "--silent", "ws", "run", "hello"], project), project);
  }, INSTALL_MS * 2);

  it("yarn berry (Plug'n'Play): yarn add -D ws-orchestrator@file:./vendor/ws-orchestrator.tgz, then yarn ws run", () => {
    const project = userProject("yarn-berry-project", { packageManager: "yarn@4.9.2" });
    fs.writeFileSync(path.join(project, "yarn.lock"), "");
    const yarn = (...args: string[]) => sh("npx", ["--yes", "-p", YARN_BERRY, "yarn", ...args], project);
    const add = yarn("add", "-D", "ws-orchestrator@file:./vendor/ws-orchestrator.tgz");
    expect(add.status, add.all).toBe(0);
    expect(fs.existsSync(path.join(project, ".pnp.cjs"))).toBe(true);
    expectRan(yarn("ws", "run", "hello"), project);
    // Under PnP too the bundled fonts and the graph renderer are found.
    const svg = yarn("ws", "graph", "hello", "--format", "svg");
    expect(svg.status, svg.all).toBe(0);
    expect(svg.stdout).toContain("<svg");
  }, INSTALL_MS * 2);

  it("npx and pnpm dlx of the tarball, in a folder without package.json", () => {
    const dir = userProject("no-package-json", undefined);
    expectRan(sh("npx", ["--yes", "--package", "./vendor/ws-orchestrator.tgz", "ws-orchestrator", "run", "hello"], dir), dir);
    // pnpm dlx installs in a folder of its own: the tarball's path must be absolute.
    expectRan(sh("npx", ["--yes", PNPM, `--package=file:${path.join(dir, "vendor/ws-orchestrator.tgz")}`, "dlx", "ws-orchestrator", "run", "hello"], dir), dir);
    expect(fs.existsSync(path.join(dir, "node_modules"))).toBe(false);
  }, INSTALL_MS * 2);

  it("globally (npm i -g), as the exported GitHub workflow does, in a repository without Node (no package.json)", () => {
    const repo = path.join(temp, "repo");
    fs.mkdirSync(path.join(repo, "workstreams"), { recursive: true });
    fs.mkdirSync(path.join(repo, "vendor"));
    fs.copyFileSync(pack(), path.join(repo, "vendor/ws-orchestrator.tgz"));
    fs.writeFileSync(path.join(repo, "workstreams", "make.json"), JSON.stringify({ id: "make", execution: { isolation: "none" }, steps: [{ id: "build", tool: "shell", run: "echo built > out.txt" }] }));
    const prefix = path.join(temp, "global");
    const runnerTemp = path.join(temp, "runner");
    fs.mkdirSync(runnerTemp);
    // The workflow's own commands, from `ws export github` of the packed version.
    const exported = ws(["export", "github", "make", "--ws-from", "vendor/ws-orchestrator.tgz"], { cwd: repo, env: cleanEnv() });
    expect(exported.code).toBe(0);
    const workflow = parse(exported.stdout) as { env: Record<string, string>; jobs: Record<string, { steps: Array<{ name?: string; run?: string }> }> };
    const step = (name: RegExp) => workflow.jobs.build!.steps.find((s) => s.name !== undefined && name.test(s.name))!.run!;
    const jobEnv = {
      ...env(),
      PATH: `${path.join(prefix, "bin")}:${process.env.PATH}`,
      HOME: process.env.HOME,
      RUNNER_TEMP: runnerTemp,
      CI: "true",
      npm_config_prefix: prefix,
      npm_config_prefer_offline: "true",
      npm_config_update_notifier: "false",
      ...workflow.env,
    };
    for (const name of [/^Install ws$/, /^ws run --only build$/]) {
      const r = spawnSync("bash", ["-e", "-c", step(name)], { cwd: repo, encoding: "utf8", env: jobEnv, timeout: INSTALL_MS });
      expect(r.status, `${String(name)}: ${r.stderr}`).toBe(0);
    }
    expect(fs.readFileSync(path.join(repo, "out.txt"), "utf8")).toBe("built\n");
    expect(fs.readFileSync(path.join(runnerTemp, "ws-junit-build.xml"), "utf8")).toContain('name="build"');
    expect(fs.existsSync(path.join(repo, "node_modules"))).toBe(false);
  }, INSTALL_MS * 2);
});
