import fs from "node:fs";
import path from "node:path";

/**
 * The toolchains an exported job sets up besides Node, by what the repository holds: a fresh
 * runner has none of the project's environment, so without this every step that runs pytest,
 * `go test` or `cargo test` ends "not found". Each toolchain is set up by its usual action and
 * installed from the repository's own lockfile, frozen, so a job runs what the lock says.
 */

export type PythonManager =
  /** uv.lock: `uv sync --frozen` makes .venv from the lock as it is. */
  | { name: "uv" }
  /** poetry.lock: poetry installs into an in-project .venv, and refuses a stale lock. */
  | { name: "poetry" }
  /** requirements*.txt: pip into a .venv made by the job, then the project itself when it is one. */
  | { name: "pip"; requirements: string[]; project: boolean };

export type PythonVersion = { file: string } | { version: string };

export type Toolchain =
  | { kind: "python"; manager: PythonManager; version: PythonVersion }
  | { kind: "go"; versionFile: string }
  | { kind: "rust"; toolchainFile: string | undefined };

/** Actions pinned to a major, as the rest of the export: a job must not change under the user. */
export const ACTIONS = {
  setupPython: "actions/setup-python@v5",
  setupUv: "astral-sh/setup-uv@v6",
  setupGo: "actions/setup-go@v5",
  // There is no rust-lang action; this one (actions-rust-lang, the successor of the archived
  // actions-rs) installs with rustup and reads rust-toolchain.toml when the repository has one.
  setupRust: "actions-rust-lang/setup-rust-toolchain@v1",
} as const;

/** Poetry through pipx (on GitHub's Ubuntu runners), pinned like the agent CLIs. */
export const POETRY_VERSION = "2.1.3";

const exists = (root: string, file: string): boolean => fs.existsSync(path.join(root, file));

function readText(root: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, file), "utf8");
  } catch {
    return undefined;
  }
}

/** The Python to set up: `.python-version` when committed, else the lower bound of `requires-python`, else any 3. */
function pythonVersion(root: string): PythonVersion {
  if (exists(root, ".python-version")) return { file: ".python-version" };
  const pyproject = readText(root, "pyproject.toml") ?? "";
  const requires = /^\s*requires-python\s*=\s*["']([^"']*)["']/m.exec(pyproject)?.[1] ?? "";
  const lower = /(?:>=|~=|==)\s*(\d+\.\d+)/.exec(requires)?.[1];
  return { version: lower ?? "3.x" };
}

function detectPython(root: string): Toolchain | undefined {
  const version = (): PythonVersion => pythonVersion(root);
  if (exists(root, "uv.lock")) return { kind: "python", manager: { name: "uv" }, version: version() };
  if (exists(root, "poetry.lock")) return { kind: "python", manager: { name: "poetry" }, version: version() };
  const requirements = fs
    .readdirSync(root)
    .filter((f) => /^requirements.*\.txt$/.test(f))
    .sort();
  if (requirements.length > 0) {
    const project = exists(root, "pyproject.toml") || exists(root, "setup.py");
    return { kind: "python", manager: { name: "pip", requirements, project }, version: version() };
  }
  return undefined;
}

export function detectToolchains(root: string): Toolchain[] {
  const found: Toolchain[] = [];
  const python = detectPython(root);
  if (python) found.push(python);
  if (exists(root, "go.mod")) found.push({ kind: "go", versionFile: "go.mod" });
  if (exists(root, "Cargo.toml")) {
    const toolchainFile = ["rust-toolchain.toml", "rust-toolchain"].find((f) => exists(root, f));
    found.push({ kind: "rust", toolchainFile });
  }
  return found;
}

/** The virtual environment first on the PATH of the job's later steps, as an activated venv is. */
const ACTIVATE_VENV = {
  name: "Put .venv on the PATH",
  run: ['echo "$PWD/.venv/bin" >> "$GITHUB_PATH"', 'echo "VIRTUAL_ENV=$PWD/.venv" >> "$GITHUB_ENV"'].join("\n"),
};

function pythonSteps(t: Extract<Toolchain, { kind: "python" }>): Record<string, unknown>[] {
  const setup = {
    name: "Set up Python",
    uses: ACTIONS.setupPython,
    with: "file" in t.version ? { "python-version-file": t.version.file } : { "python-version": t.version.version },
  };
  const m = t.manager;
  if (m.name === "uv") {
    // uv reads .python-version too and finds the Python set up above instead of downloading one.
    return [setup, { name: "Set up uv", uses: ACTIONS.setupUv }, { name: "Install from uv.lock", run: "uv sync --frozen" }, ACTIVATE_VENV];
  }
  if (m.name === "poetry") {
    return [
      setup,
      { name: `Set up poetry ${POETRY_VERSION}`, run: `pipx install poetry==${POETRY_VERSION}` },
      // In the checkout, where the steps' `.venv/bin/python` looks; `poetry install` fails on a stale lock.
      { name: "Install from poetry.lock", run: "poetry config virtualenvs.in-project true\npoetry install --no-interaction" },
      ACTIVATE_VENV,
    ];
  }
  const install = [
    "python -m venv .venv",
    ...m.requirements.map((r) => `.venv/bin/python -m pip install -r ${r}`),
    ...(m.project ? [".venv/bin/python -m pip install -e ."] : []),
  ];
  return [setup, { name: `Install from ${m.requirements.join(", ")} (pip)`, run: install.join("\n") }, ACTIVATE_VENV];
}

/** The steps that set the toolchains up, in the order found (each independent of the others). */
export function toolchainSteps(toolchains: readonly Toolchain[]): Record<string, unknown>[] {
  return toolchains.flatMap((t): Record<string, unknown>[] => {
    switch (t.kind) {
      case "python":
        return pythonSteps(t);
      case "go":
        return [{ name: "Set up Go", uses: ACTIONS.setupGo, with: { "go-version-file": t.versionFile } }, { name: "Download Go modules", run: "go mod download" }];
      case "rust":
        // Its default RUSTFLAGS="-D warnings" would fail builds the project itself lets pass.
        return [{ name: "Set up Rust", uses: ACTIONS.setupRust, with: { rustflags: "" } }];
    }
  });
}

/** One line per toolchain for the workflow's header. */
export function describeToolchains(toolchains: readonly Toolchain[]): string[] {
  return toolchains.map((t) => {
    switch (t.kind) {
      case "python": {
        const v = "file" in t.version ? t.version.file : t.version.version;
        const m = t.manager;
        const how = m.name === "uv" ? "uv sync --frozen (uv.lock)" : m.name === "poetry" ? "poetry install (poetry.lock)" : `pip from ${m.requirements.join(", ")} into .venv`;
        return `Python (${v}): ${how}`;
      }
      case "go":
        return `Go (${t.versionFile})`;
      case "rust":
        return `Rust (${t.toolchainFile ?? "stable"})`;
    }
  });
}
