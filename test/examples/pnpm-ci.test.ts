import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { actionlint } from "../export/actionlint.js";
import { git } from "../git/make-repo.js";
import { cleanEnv, ws } from "../helpers/cli.js";
import { exampleRepo, failures, isolatedEnv, jobOrder, runWorkflow, type JobResult, type Workflow } from "./run-workflow.js";
import { parse } from "yaml";

/**
 * examples/pnpm-ci: a pnpm package (packageManager pnpm@9.15.9, pnpm-lock.yaml, a dependency
 * its tests import) and its exported workflow, committed. The test makes the repository a user
 * would have (the example, plus ws packed from this checkout and committed at
 * vendor/ws-orchestrator.tgz), checks that the committed workflow is what `ws export github`
 * makes there and that actionlint passes it, then runs its jobs in the order of their needs,
 * each in a fresh clone (run-workflow.ts). The only network is the npm registry (pnpm, the
 * example's dependency, ws's dependencies), with every cache inside the temp root.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE = path.join(ROOT, "examples/pnpm-ci");
const WORKFLOW = ".github/workflows/ws-pnpm-ci.yml";
const EXPORT_ARGS = ["export", "github", "ws-pnpm-ci", "--ws-from", "vendor/ws-orchestrator.tgz", "--on", "push,pull_request,workflow_dispatch", "-o", WORKFLOW];
// A slow registry must not fail the test: one install takes seconds here, minutes on a bad day.
const INSTALL_MS = 300_000;

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-pnpm-ci-")));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/**
 * The machine's npm settings (its global npmrc: a CA file, a proxy), read once before HOME and
 * the prefix change: npm looks for the global npmrc under the prefix, which the jobs move.
 */
const machineNpmrc = execFileSync("npm", ["config", "get", "globalconfig"], { encoding: "utf8" }).trim();

function baseEnv(): NodeJS.ProcessEnv {
  return isolatedEnv(temp, { npm_config_globalconfig: machineNpmrc, npm_config_store_dir: path.join(temp, "pnpm-store") });
}

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", [...args, "--loglevel=error"], { cwd, encoding: "utf8", env: baseEnv(), timeout: INSTALL_MS });
}

function origin(): string {
  return exampleRepo({ example: EXAMPLE, root: ROOT, temp, env: baseEnv(), skip: (name) => [".worktrees", "dist", "node_modules", "vendor"].includes(name) });
}

/** What pnpm/action-setup does: the version package.json names, installed with npm. */
function setupPnpm(version: string): string {
  const prefix = path.join(temp, `pnpm-${version}`);
  if (!fs.existsSync(path.join(prefix, "bin", "pnpm"))) npm(["install", "--global", "--prefix", prefix, `pnpm@${version}`], temp);
  return path.join(prefix, "bin");
}

function run(text: string, name: string): JobResult[] {
  return runWorkflow(text, { origin: origin(), root: path.join(temp, name), env: baseEnv(), setupPnpm, timeoutMs: INSTALL_MS });
}

describe("examples/pnpm-ci: the exported workflow, run as GitHub would", () => {
  it("is what ws export github makes in that repository, and actionlint passes it", async () => {
    const clone = path.join(temp, "check");
    git(temp, "clone", "-q", origin(), clone);
    const r = ws(["--cwd", clone, ...EXPORT_ARGS, "--check"], { cwd: clone, env: cleanEnv() });
    expect(r.stderr + r.stdout).toBe(`${WORKFLOW}: up to date\n`);
    expect(r.code).toBe(0);
    const text = fs.readFileSync(path.join(clone, WORKFLOW), "utf8");
    expect(await actionlint(text, WORKFLOW)).toEqual([]);
    // The pnpm setup comes before setup-node (whose pnpm cache asks pnpm for its store).
    expect(text).toMatch(/uses: pnpm\/action-setup@v4\n {6}- uses: actions\/setup-node@v4\n {8}with:\n {10}node-version: "20"\n {10}cache: pnpm\n {6}- name: Install dependencies \(pnpm\)\n {8}run: pnpm install --frozen-lockfile\n/);
  }, 120_000);

  it("its jobs pass, in the order of their needs, each in a fresh clone", () => {
    const text = fs.readFileSync(path.join(EXAMPLE, WORKFLOW), "utf8");
    expect(jobOrder(parse(text) as Workflow)).toEqual(["lint", "test", "build", "ws-report"]);
    const results = run(text, "green");
    expect(failures(results)).toBe("");
    expect(results.map((r) => [r.job, r.ok])).toEqual([
      ["lint", true],
      ["test", true],
      ["build", true],
      ["ws-report", true],
    ]);
    for (const job of ["lint", "test", "build"]) {
      const result = results.find((r) => r.job === job)!;
      // Installed by pnpm from the lockfile (a symlink into node_modules/.pnpm), in this job's own clone.
      expect(fs.realpathSync(path.join(result.workspace, "node_modules/semver"))).toContain(`${path.sep}.pnpm${path.sep}semver@7.7.2`);
      const wsRun = result.steps.find((s) => s.name === `ws run --only ${job}`)!;
      expect(wsRun.output).toContain(`passed ${job} after 1 attempt`);
      expect(wsRun.output).not.toContain("not ignored by git");
    }
    const junit = fs.readdirSync(path.join(temp, "green/artifacts/ws-junit")).sort();
    expect(junit).toEqual(["ws-junit-build.xml", "ws-junit-lint.xml", "ws-junit-test.xml"]);
    expect(fs.readFileSync(path.join(temp, "green/artifacts/ws-junit/ws-junit-build.xml"), "utf8")).toMatch(/<testcase [^>]*name="build"/);
    expect(fs.existsSync(path.join(temp, "green/artifacts/ws-changes/ws-changes.patch"))).toBe(true);
    // Each job's `ws report`, gathered by the report job into one artifact.
    const reports = fs.readdirSync(path.join(temp, "green/artifacts/ws-report")).sort();
    expect(reports).toEqual(["ws-report-build.html", "ws-report-lint.html", "ws-report-test.html"]);
    for (const job of ["lint", "test", "build"]) expect(fs.readFileSync(path.join(temp, `green/artifacts/ws-report/ws-report-${job}.html`), "utf8")).toContain(`data-step="${job}"`);
  }, 900_000);

  it("without the export's pnpm install the same jobs fail (the emulation checks what it runs)", () => {
    const text = fs.readFileSync(path.join(EXAMPLE, WORKFLOW), "utf8").replace(/\n {6}- name: Install dependencies \(pnpm\)\n {8}run: pnpm install --frozen-lockfile/g, "");
    const workflow = parse(text) as Workflow;
    // Only the test job: it imports semver, which nothing installed.
    const onlyTest = { ...workflow, jobs: { test: workflow.jobs.test! } };
    const results = run(JSON.stringify(onlyTest), "no-install");
    expect(results.map((r) => [r.job, r.ok])).toEqual([["test", false]]);
    const output = results[0]!.steps.find((s) => s.name === "ws run --only test")?.output;
    expect(output).toContain("Cannot find package 'semver'");
    expect(output).toContain("failed test (exit:1) after 1 attempt");
  }, 600_000);
});
