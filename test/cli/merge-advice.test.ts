import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { cleanup, gitProject, wsc, type Project } from "../run/rig.js";

/** What `ws run`, `ws status` and `ws list` advise doing with a run's branch: one answer, worded alike. */

afterAll(cleanup);


const env = { NO_COLOR: "1" };

/** The run's summary, `ws status <id>`, `ws list` and `ws status`, as printed. */
async function allSay(project: Project, id: string) {
  const run = await wsc(project, ["run", id], env);
  const status = await wsc(project, ["status", id], env);
  const list = await wsc(project, ["list"], env);
  const overview = await wsc(project, ["status"], env);
  return { run, status, list, overview };
}

describe.concurrent("merge advice", () => {
  it("gives none after a checks-only run, though the branch holds the user's uncommitted work as its base", async () => {
    const project = gitProject([{ id: "checks", steps: [{ id: "lint", tool: "shell", run: "true" }, { id: "test", tool: "shell", run: "true" }] }]);
    // Uncommitted and untracked files: the run's base is a commit of them, one ahead of HEAD.
    fs.writeFileSync(path.join(project.dir, "README.md"), "# p\nedited\n");
    const { run, status, list, overview } = await allSay(project, "checks");
    expect(run.code, run.stderr).toBe(0);
    for (const [what, r] of Object.entries({ run, status, list, overview })) {
      expect(r.stdout, what).not.toContain("git merge");
      expect(r.stdout, what).not.toContain("would fail");
    }
  });

  it("gives none after a run where no step passed", async () => {
    const project = gitProject([{ id: "broken", steps: [{ id: "edit", tool: "shell", run: "echo x > out.txt; exit 1", file_scope: ["out.txt"] }] }]);
    fs.writeFileSync(path.join(project.dir, "notes.txt"), "untracked\n");
    const { run, status, list } = await allSay(project, "broken");
    expect(run.code).toBe(1);
    for (const [what, r] of Object.entries({ run, status, list })) expect(r.stdout, what).not.toContain("git merge");
  });

  it("says the same in the summary, ws status and ws list when a step committed work, and nothing once it is merged", async () => {
    const project = gitProject([{ id: "edits", steps: [{ id: "write", tool: "shell", run: "echo x > out.txt", file_scope: ["out.txt"] }] }]);
    const { run, status, list, overview } = await allSay(project, "edits");
    expect(run.code, run.stderr).toBe(0);
    const advice = "work is on branch ws/edits; merge it with: git merge ws/edits";
    expect(run.stdout).toContain(advice);
    expect(status.stdout).toContain(advice);
    expect(list.stdout).toContain("edits: merge its work with: git merge ws/edits");
    expect(overview.stdout).toContain("edits: merge its work with: git merge ws/edits");
    const json = JSON.parse((await wsc(project, ["list", "--json"], env)).stdout) as { workstreams: Array<{ merge?: unknown }> };
    expect(json.workstreams[0]?.merge).toEqual({ branch: "ws/edits", ready: true });

    git(project.dir, "merge", "-q", "ws/edits");
    const after = await wsc(project, ["status", "edits"], env);
    expect(after.stdout).toContain("branch ws/edits has nothing your checkout lacks (nothing to merge)");
    expect(after.stdout).not.toContain("git merge");
    expect((await wsc(project, ["list"], env)).stdout).not.toContain("git merge");
  });

  it("names what blocks the merge in the summary and ws status, and points ws list there", async () => {
    const project = gitProject([{ id: "edits", steps: [{ id: "write", tool: "shell", run: "echo from-ws > out.txt", file_scope: ["out.txt"] }] }]);
    const run = await wsc(project, ["run", "edits"], env);
    expect(run.code, run.stderr).toBe(0);
    // After the run, the user makes a file of the same name: git merge would refuse to overwrite it.
    fs.writeFileSync(path.join(project.dir, "out.txt"), "mine\n");
    const status = await wsc(project, ["status", "edits"], env);
    expect(status.stdout).toContain("work is on branch ws/edits, but `git merge ws/edits` would fail now:");
    expect(status.stdout).toContain("untracked out.txt would be overwritten");
    expect((await wsc(project, ["list"], env)).stdout).toContain("edits: work is on branch ws/edits, but `git merge ws/edits` would fail now (why: ws status edits)");
  });

  it("puts no local path into the history a merge brings in", async () => {
    const project = gitProject([{ id: "edits", steps: [{ id: "write", tool: "shell", run: "echo x > out.txt", file_scope: ["out.txt"] }] }]);
    fs.writeFileSync(path.join(project.dir, "README.md"), "# p\nedited\n");
    expect((await wsc(project, ["run", "edits"], env)).code).toBe(0);
    const messages = git(project.dir, "log", "--format=%B", "main..ws/edits");
    expect(messages).toContain("ws: uncommitted work the run started from (1 uncommitted file)");
    expect(messages).not.toContain(project.dir);
    expect(messages).not.toContain(path.basename(project.dir));
  });
});
