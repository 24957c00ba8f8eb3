import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cleanEnv, ws } from "../helpers/cli.js";

/**
 * The README's first install path, as a user takes it: pack ws, install the tarball into another
 * project, run `npx ws run` there. It catches a `files` list that forgets something the built
 * binary needs at run time (schemas, fonts) and a bin that does not resolve. `npm pack` skips
 * `prepare` (dist is built before the tests) and the install prefers npm's cache, to stay fast.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-pack-")));

afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
}

let tarball: string | undefined;
/** `npm pack` once for both tests. */
function pack(): string {
  tarball ??= path.join(temp, npm(["pack", "--ignore-scripts", "--pack-destination", temp], ROOT).trim().split("\n").at(-1)!);
  return tarball;
}

describe("installing ws from a packed tarball", () => {
  it("into a project: npm install -D <tarball>, then npx ws run (and the ws-orchestrator bin)", () => {
    const project = path.join(temp, "project");
    fs.mkdirSync(path.join(project, "workstreams"), { recursive: true });
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "user-project", version: "1.0.0", private: true }));
    fs.writeFileSync(
      path.join(project, "workstreams", "hello.json"),
      JSON.stringify({ id: "hello", steps: [{ id: "write", tool: "shell", run: "echo hi > out.txt" }, { id: "check", tool: "shell", run: "test -s out.txt", depends_on: ["write"] }] }),
    );
    npm(["install", "-D", pack(), "--prefer-offline"], project);

    const env = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: "false" };
    const run = spawnSync("npx", ["ws", "run", "hello"], { cwd: project, encoding: "utf8", env, timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("hello: passed");
    expect(fs.readFileSync(path.join(project, "out.txt"), "utf8")).toBe("hi\n");

    // The second name cannot collide with npm's unrelated `ws` package.
    const other = spawnSync("npx", ["ws-orchestrator", "validate", "hello"], { cwd: project, encoding: "utf8", env, timeout: 60_000 });
    expect(other.status).toBe(0);
    expect(other.stdout).toContain("ok       workstreams/hello.json");
  }, 240_000);

  it("globally, as the exported GitHub workflow does, in a repository without Node (no package.json)", () => {
    const repo = path.join(temp, "repo");
    fs.mkdirSync(path.join(repo, "workstreams"), { recursive: true });
    fs.writeFileSync(path.join(repo, "workstreams", "make.json"), JSON.stringify({ id: "make", execution: { isolation: "none" }, steps: [{ id: "build", tool: "shell", run: "echo built > out.txt" }] }));
    const prefix = path.join(temp, "global");
    const runnerTemp = path.join(temp, "runner");
    fs.mkdirSync(runnerTemp);
    // The workflow's own commands, from `ws export github` of the packed version.
    const exported = ws(["export", "github", "make", "--ws-package", pack()], { cwd: repo, env: cleanEnv() });
    expect(exported.code).toBe(0);
    const workflow = parse(exported.stdout) as { env: Record<string, string>; jobs: Record<string, { steps: Array<{ name?: string; run?: string }> }> };
    const step = (name: RegExp) => workflow.jobs.build!.steps.find((s) => s.name !== undefined && name.test(s.name))!.run!;
    const env = {
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
      const r = spawnSync("bash", ["-e", "-c", step(name)], { cwd: repo, encoding: "utf8", env, timeout: 120_000 });
      expect(r.status, `${String(name)}: ${r.stderr}`).toBe(0);
    }
    expect(fs.readFileSync(path.join(repo, "out.txt"), "utf8")).toBe("built\n");
    expect(fs.readFileSync(path.join(runnerTemp, "ws-junit-build.xml"), "utf8")).toContain('name="build"');
    expect(fs.existsSync(path.join(repo, "node_modules"))).toBe(false);
  }, 240_000);
});
