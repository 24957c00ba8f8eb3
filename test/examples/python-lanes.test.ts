import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { cleanEnv, ws } from "../helpers/cli.js";

/**
 * examples/python-ci as its maintainer has it (issue 33): a venv in `.venv` holding an editable
 * install of the package (`pip install -e .`, hatchling's .pth naming the checkout's src/),
 * `.venv/` ignored with the trailing slash, no `worktree` settings. Through the built binary, a
 * lane must run with that venv (linked, excluded in the lane, never swept as leftovers) and import
 * its own code, and the user's venv must still point at the checkout afterwards. The venv is made
 * once for the file; pip installs from the machine's local mirror (PIP_RETRIES=0: the public
 * index, unreachable here, fails fast).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE = path.join(ROOT, "examples/python-ci");
const INSTALL_MS = 300_000;

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-python-ci-")));
const repo = path.join(temp, "textkit");
const lanes = path.join(temp, "lanes");
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

const env = () => cleanEnv({ WS_WORKTREES_DIR: lanes });
const run = (args: string[]) => ws(args, { cwd: repo, env: env(), timeoutMs: 240_000 });

/** What says where the user's venv imports textkit from: hatchling's .pth and pip's direct_url.json. */
function venvPointers(): Record<string, string> {
  const site = path.join(repo, ".venv/lib", fs.readdirSync(path.join(repo, ".venv/lib")).find((d) => d.startsWith("python"))!, "site-packages");
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(site)) {
    if (name.endsWith(".pth") && name.includes("textkit")) out[name] = fs.readFileSync(path.join(site, name), "utf8");
    if (name.startsWith("textkit-") && name.endsWith(".dist-info")) out.direct_url = fs.readFileSync(path.join(site, name, "direct_url.json"), "utf8");
  }
  return out;
}

function commitAll(message: string): void {
  git(repo, "add", "-A");
  git(repo, "-c", "user.name=Example", "-c", "user.email=example@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message);
}

function writeWorkstream(id: string, doc: object): void {
  fs.writeFileSync(path.join(repo, "workstreams", `${id}.json`), JSON.stringify({ id, ...doc }, null, 2));
}

let pointers: Record<string, string>;

beforeAll(() => {
  fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (src) => ![".worktrees", ".venv", "dist", "__pycache__"].includes(path.basename(src)) });
  expect(fs.readFileSync(path.join(repo, ".gitignore"), "utf8").split("\n")).toContain(".venv/");
  git(repo, "init", "-q", "-b", "main");
  commitAll("python-ci example");
  execFileSync("python3", ["-m", "venv", ".venv"], { cwd: repo, timeout: INSTALL_MS });
  execFileSync(".venv/bin/pip", ["install", "-q", "-e", ".", "pytest", "ruff", "mypy", "build", "hatchling"], { cwd: repo, timeout: INSTALL_MS, env: { ...process.env, PIP_RETRIES: "0" }, stdio: ["ignore", "ignore", "pipe"] });
  pointers = venvPointers();
  // The editable install points at the checkout: what a lane must not import.
  expect(Object.values(pointers).join("\n")).toContain(repo);
}, INSTALL_MS * 2);

describe("examples/python-ci in lanes, with the maintainer's venv (issue 33)", () => {
  it("imports the lane's own code in a step, through the linked venv and its console scripts", () => {
    writeWorkstream("ws-probe", {
      defaults: { tool: "shell" },
      steps: [
        { id: "module", run: ".venv/bin/python -c 'import textkit; print(\"FILE=\" + textkit.__file__)'" },
        { id: "pytest", run: ".venv/bin/pytest -q -p no:cacheprovider tests/test_slug.py && .venv/bin/python -c 'import sys; print(\"PATH=\" + repr(sys.path))'" },
      ],
    });
    commitAll("a probe");
    const r = run(["run", "ws-probe"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const log = (step: string) => fs.readFileSync(path.join(repo, ".worktrees/ws-probe/steps", step, "attempt-1.log"), "utf8");
    const file = /out\| FILE=(\S+)/.exec(log("module"))?.[1] ?? "";
    expect(file).toMatch(/\/ws-probe\/lane-\d+\/src\/textkit\/__init__\.py$/);
    expect(file.startsWith(repo + path.sep)).toBe(false);
    expect(file.endsWith(path.join("src", "textkit", "__init__.py"))).toBe(true);
    // Nothing on sys.path names the checkout's src/ any more (hatchling's .pth entry pointed at the lane).
    const sysPath = /out\| PATH=(.*)/.exec(log("pytest"))?.[1] ?? "";
    expect(sysPath).not.toContain(`'${path.join(repo, "src")}'`);
    expect(r.stdout).toMatch(/info: linked your checkout's \.venv \(Python venv\) into each lane/);
    expect(r.stdout).not.toMatch(/warning: worktree/);
  });

  it("passes the agent steps' pytest acceptance tests, leaves the user's venv as it was, and reuses the lanes' environment", () => {
    const first = run(["run", "ws-python-agents"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const state = JSON.parse(fs.readFileSync(path.join(repo, ".worktrees/ws-python-agents/state.json"), "utf8")) as { steps: Record<string, { state: string }> };
    expect(Object.values(state.steps).map((s) => s.state)).toEqual(["passed", "passed"]);
    expect(venvPointers()).toEqual(pointers);
    // The lane's .venv is a link ws made: excluded in the lane, so it is no one's work and no leftover.
    const lane = path.join(lanes, fs.readdirSync(lanes)[0]!, "ws-python-agents", "lane-1");
    expect(fs.lstatSync(path.join(lane, ".venv")).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(`${lane}.git/info/exclude`, "utf8")).toContain("/.venv\n");
    const second = run(["run", "ws-python-agents"]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/reused the worktree of the last run/);
    expect(second.stdout).not.toMatch(/uncommitted work an interrupted run left/);
    expect(fs.existsSync(path.join(repo, ".worktrees/ws-python-agents/leftovers"))).toBe(false);
    expect(fs.lstatSync(path.join(lane, ".venv")).isSymbolicLink()).toBe(true);
    expect(venvPointers()).toEqual(pointers);
    // The commits hold the agents' files, not the link.
    const files = git(repo, "ls-tree", "-r", "--name-only", "ws/ws-python-agents").split("\n");
    expect(files).toEqual(expect.arrayContaining(["src/textkit/truncate.py", "src/textkit/initials.py"]));
    expect(files).not.toContain(".venv");
  });

  it("names the setting when a step ends 'not found' on a path the checkout has and the lane lacks", () => {
    writeWorkstream("ws-missing", { defaults: { tool: "shell" }, worktree: { setup: "true" }, steps: [{ id: "test", run: ".venv/bin/python -m pytest -q" }] });
    commitAll("a workstream whose setup makes no venv");
    const r = run(["run", "ws-missing"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`.venv/bin/python exists in your checkout (.venv is ignored by git) but not in the lane: bring it into every lane with "worktree": { "link": [".venv"] }`);
    expect(r.stdout).toMatch(/info: worktree\.setup is set, so ws links none of the environments/);
  });

  it("refuses (exit 2) a setup that would install into the venv linked from the checkout", () => {
    writeWorkstream("ws-reinstall", { defaults: { tool: "shell" }, worktree: { link: [".venv"], setup: ".venv/bin/pip install -e ." }, steps: [{ id: "test", run: "true" }] });
    commitAll("a setup that re-points the venv");
    const r = run(["run", "ws-reinstall"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('worktree.setup ".venv/bin/pip install -e ." would install into .venv, which worktree.link shares with your checkout');
    expect(r.stderr).toContain("fix: ");
    expect(venvPointers()).toEqual(pointers);
  });

  it("runs the checks in lanes (the build's wheel and sdist kept as artifacts), and fails the lint step that autofixes a file instead of committing the fix", () => {
    const clean = run(["run", "ws-python-checks"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const artifacts = fs.readdirSync(path.join(repo, ".worktrees/ws-python-checks/artifacts/build/dist")).sort();
    expect(artifacts).toEqual(["textkit-0.1.0-py3-none-any.whl", "textkit-0.1.0.tar.gz"]);

    // Imports out of order: ruff's isort rule, which the project's `fix = true` rewrites in place.
    const words = path.join(repo, "src/textkit/words.py");
    const unsorted = 'import sys\nimport os\n\n\ndef word_count(text: str) -> int:\n    """The number of words in text."""\n    return len(text.split(os.sep if sys.argv is None else None))\n';
    fs.writeFileSync(words, unsorted);
    commitAll("imports out of order");
    const r = run(["run", "ws-python-checks", "--only", "lint"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/lint\s*│ ✖ failed.*scope_violation/);
    expect(r.stdout).toContain("src/textkit/words.py");
    expect(r.stdout).not.toMatch(/git merge ws\/ws-python-checks/);
    // Nothing committed, the checkout's file as it was, the fix kept as a patch.
    expect(git(repo, "rev-list", "main..ws/ws-python-checks").trim()).toBe("");
    expect(git(repo, "show", "ws/ws-python-checks:src/textkit/words.py").trimEnd()).toBe(unsorted.trimEnd());
    expect(fs.readFileSync(words, "utf8")).toBe(unsorted);
    const stepDir = path.join(repo, ".worktrees/ws-python-checks/steps/lint");
    expect(fs.readdirSync(stepDir).some((f) => f.endsWith(".out-of-scope.patch"))).toBe(true);
  });
});
