import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderGithubWorkflow } from "../../src/export/github.js";
import { detectToolchains } from "../../src/export/toolchain.js";
import { buildGraph } from "../../src/graph/graph.js";
import { git } from "../git/make-repo.js";
import { workstreamOf } from "../helpers/workstream.js";
import { machinePipEnv, setupPythonIn } from "./python-env.js";
import { runWorkflow, type JobResult, type Workflow } from "./run-workflow.js";

/**
 * The requirements.txt path of the export with real pip: a repository with requirements.txt and
 * a pyproject.toml (no lockfile), its exported job's setup run by the stand-in (run-workflow.ts)
 * in a fresh clone. pip gets the files from the machine's configured indexes (a local mirror of
 * PyPI); PIP_RETRIES=0 makes the unreachable pypi.org fail fast.
 */

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-pip-setup-")));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

const PYPROJECT = `[project]
name = "pipdemo"
version = "0.1.0"
requires-python = ">=3.10"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/pipdemo"]
`;

function origin(name: string, requirements: string): string {
  const dir = path.join(temp, name);
  const files: Record<string, string> = {
    "requirements.txt": requirements,
    "pyproject.toml": PYPROJECT,
    ".python-version": "3.11\n",
    ".gitignore": ".venv/\n",
    "src/pipdemo/__init__.py": "WHO = 'pipdemo'\n",
  };
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "-c", "user.name=Example", "-c", "user.email=example@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "pip example");
  return dir;
}

/** The exported job's setup, up to ws's own install, then `check` with .venv first on the PATH. */
function setupJob(repo: string, check: string): string {
  const ws = workstreamOf({ id: "ws-pip", steps: [{ id: "test", run: "python -m pytest" }] });
  const text = renderGithubWorkflow(ws, buildGraph(ws), { ws: { kind: "tarball", path: "vendor/ws-orchestrator.tgz" }, toolchains: detectToolchains(repo) });
  const job = (parse(text) as Workflow).jobs.test!;
  const steps = job.steps.slice(0, job.steps.findIndex((s) => s.name === "Install ws"));
  return JSON.stringify({ jobs: { test: { ...job, steps: [...steps, { name: "check", run: check }] } } });
}

function run(repo: string, text: string, name: string): JobResult {
  const env = { PATH: process.env.PATH, HOME: path.join(temp, "home"), ...machinePipEnv(path.join(temp, "pip-cache")) };
  const setupPnpm = (): string => {
    throw new Error("no pnpm here");
  };
  return runWorkflow(text, { origin: repo, root: path.join(temp, `run-${name}`), env, setupPnpm, setupPython: setupPythonIn(temp), timeoutMs: 300_000 })[0]!;
}

describe("export: requirements.txt → pip into .venv, with real pip", () => {
  it("installs the requirements and the project, editable, into the clone's .venv, first on the PATH", () => {
    const repo = origin("green", "iniconfig==2.3.0\n");
    const result = run(repo, setupJob(repo, `python -c 'import sys, iniconfig, pipdemo; print(sys.prefix); from importlib.metadata import version; print(version("iniconfig")); print(pipdemo.__file__)'`), "green");
    const failed = result.steps.filter((s) => !s.ok).map((s) => `${s.name}:\n${s.output}`).join("\n");
    expect(failed).toBe("");
    expect(result.steps.map((s) => s.name)).toContain("Install from requirements.txt (pip)");
    expect(result.steps.at(-1)!.output.split("\n").slice(0, 3)).toEqual([`${result.workspace}/.venv`, "2.3.0", `${result.workspace}/src/pipdemo/__init__.py`]);
  }, 600_000);

  it("a requirement the index does not have fails the job's install (pip really ran)", () => {
    const repo = origin("red", "iniconfig==0.0.999\n");
    const result = run(repo, setupJob(repo, "true"), "red");
    const install = result.steps.find((s) => s.name === "Install from requirements.txt (pip)")!;
    expect(install.ok).toBe(false);
    expect(install.output).toMatch(/No matching distribution found for iniconfig==0\.0\.999/);
    expect(result.ok).toBe(false);
  }, 600_000);
});
