import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { cleanup, gitProject, wsc, type Project } from "./rig.js";

/**
 * Issue 33, point 3: a check must not rewrite the code unnoticed. A `shell` step without
 * `file_scope` claims no files (design §1): what it changes in tracked or new, unignored files
 * fails it with scope_violation, kept as a patch and committed nowhere; what git ignores (a
 * coverage report) is not a change. An agent step without file_scope may still change anything.
 */

afterAll(cleanup);

const FILES = { "src/app.py": "import os\nimport sys\n", ".gitignore": "coverage/\n" };

type Steps = Record<string, { state: string; reason?: { kind: string }; detail?: string }>;
const readState = (project: Project, id: string): { steps: Steps } => JSON.parse(fs.readFileSync(path.join(project.state(id), "state.json"), "utf8")) as { steps: Steps };

/** The files of the run branch's tip (absent when nothing was committed on it). */
const branchFiles = (dir: string, branch: string): string[] => {
  try {
    return git(dir, "ls-tree", "-r", "--name-only", branch).split("\n");
  } catch {
    return [];
  }
};

describe.concurrent("a shell step without file_scope", () => {
  it("fails with scope_violation when it autofixes a tracked file; the fix is kept as a patch, nothing is committed", async () => {
    // What `ruff check` with `fix = true` does: rewrites the file and exits 0.
    const project = gitProject([{ id: "checks", steps: [{ id: "lint", run: "printf 'import os\\n' > src/app.py" }] }], FILES);
    const r = await wsc(project, ["run", "checks"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const lint = readState(project, "checks").steps.lint;
    expect(lint?.state).toBe("failed");
    expect(lint?.reason?.kind).toBe("scope_violation");
    expect(lint?.detail).toMatch(/^changed src\/app\.py: a shell step without file_scope may change no file \(kept in .*attempt-1\.out-of-scope\.patch, then reverted; list what it may write in file_scope\)$/);
    expect(r.stdout).toMatch(/lint .*scope_violation: changed src\/app\.py: a shell step without file_scope/);
    const patch = path.join(project.state("checks"), "steps", "lint", "attempt-1.out-of-scope.patch");
    expect(fs.readFileSync(patch, "utf8")).toContain("-import sys");
    expect(r.stdout).not.toContain("git merge ws/checks");
    const tip = git(project.dir, "rev-parse", "--verify", "-q", "ws/checks^{tree}");
    expect(tip).toBe(git(project.dir, "rev-parse", "main^{tree}"));
    expect(fs.readFileSync(path.join(project.dir, "src/app.py"), "utf8")).toBe(FILES["src/app.py"]);
  });

  it("fails when it creates a new file git does not ignore, and passes when it writes only where git ignores", async () => {
    const project = gitProject(
      [
        {
          id: "checks",
          steps: [
            { id: "test", run: "mkdir -p coverage && echo 90% > coverage/report.txt" },
            { id: "gen", run: "echo 'x = 1' > src/generated.py" },
          ],
        },
      ],
      FILES,
    );
    const r = await wsc(project, ["run", "checks"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const state = readState(project, "checks");
    expect(state.steps.test?.state).toBe("passed");
    expect(state.steps.gen?.reason?.kind).toBe("scope_violation");
    expect(state.steps.gen?.detail).toContain("src/generated.py");
    expect(branchFiles(project.dir, "ws/checks")).not.toContain("src/generated.py");
  });

  it("with a file_scope, writes and commits what the scope names", async () => {
    const project = gitProject([{ id: "fmt", steps: [{ id: "format", run: "printf 'import os\\n' > src/app.py", file_scope: ["src/**"] }] }], FILES);
    const r = await wsc(project, ["run", "fmt"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(git(project.dir, "show", "ws/fmt:src/app.py")).toBe("import os");
  });
});

describe("an agent step without file_scope", () => {
  it("may change anything (validate warns that its conflicts cannot be checked)", async () => {
    const project = gitProject(
      [
        {
          id: "agent",
          tools: { writer: { command: "sh", args: ["-c", "echo new > anywhere.txt"] } },
          steps: [{ id: "edit", tool: "writer", tasks: ["write anywhere.txt"] }],
        },
      ],
      FILES,
    );
    const r = await wsc(project, ["run", "agent"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('agent step "edit" (writer) has no file_scope');
    expect(git(project.dir, "show", "ws/agent:anywhere.txt")).toBe("new");
  });
});
