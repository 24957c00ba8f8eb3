import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { provisionWorktree } from "../../src/git/worktree-setup.js";
import { UserError } from "../../src/errors.js";
import { makeRepo, read, removeRepos, writeFiles } from "./make-repo.js";

afterEach(removeRepos);

function setup(settings: { copy?: string[]; link?: string[]; setup?: string }, created: boolean, project: string, tree: string, timeoutMs?: number) {
  return provisionWorktree({
    projectDir: project,
    workdir: tree,
    settings: { copy: settings.copy ?? [], link: settings.link ?? [], setup: settings.setup },
    created,
    stateDir: path.join(project, ".worktrees", "w"),
    env: process.env,
    timeoutMs,
  });
}

describe("provisionWorktree", () => {
  it("copies .env afresh each run and links node_modules to the project's own", async () => {
    const project = makeRepo({ ".gitignore": ".env\nnode_modules\n" });
    const tree = makeRepo({ ".gitignore": ".env\nnode_modules\n" });
    writeFiles(project, { ".env": "KEY=1\n", "node_modules/dep/index.js": "dep\n" });
    const first = await setup({ copy: [".env"], link: ["node_modules"] }, true, project, tree);
    expect(read(tree, ".env")).toBe("KEY=1\n");
    expect(fs.readlinkSync(path.join(tree, "node_modules"))).toBe(path.join(project, "node_modules"));
    expect(read(tree, "node_modules/dep/index.js")).toBe("dep\n");
    expect(first.notes.join("\n")).toMatch(/copied \.env; linked node_modules/);
    expect(first.notes.join("\n")).not.toMatch(/not ignored/);

    writeFiles(project, { ".env": "KEY=2\n" });
    await setup({ copy: [".env"], link: ["node_modules"] }, false, project, tree);
    expect(read(tree, ".env")).toBe("KEY=2\n");
  });

  it("says when a linked path is not ignored (node_modules/ does not match a symlink) or missing", async () => {
    const project = makeRepo({ ".gitignore": "node_modules/\n" });
    const tree = makeRepo({ ".gitignore": "node_modules/\n" });
    writeFiles(project, { "node_modules/x": "x\n" });
    const result = await setup({ link: ["node_modules"], copy: [".env"] }, true, project, tree);
    const notes = result.notes.join("\n");
    expect(notes).toMatch(/node_modules is not ignored by git in the worktree/);
    expect(notes).toMatch(/\.env not found/);
  });

  it("runs setup once per worktree, again when the tree is new or the command changed, and logs its output", async () => {
    const project = makeRepo();
    const tree = makeRepo();
    const count = path.join(project, "count");
    const command = `echo installing; echo x >> ${count}`;
    await setup({ setup: command }, true, project, tree);
    const again = await setup({ setup: command }, false, project, tree);
    expect(again.notes).toEqual([]); // nothing to say: the setup of this worktree is done
    expect(read(project, "count")).toBe("x\n");
    expect(read(project, ".worktrees/w/setup.log")).toContain("installing");
    await setup({ setup: command }, true, project, tree);
    expect(read(project, "count")).toBe("x\nx\n");
    await setup({ setup: `${command}; true` }, false, project, tree);
    expect(read(project, "count")).toBe("x\nx\nx\n");
  });

  it("fails the run (exit 1) with the output's last lines when setup fails, and tries again next time", async () => {
    const project = makeRepo();
    const tree = makeRepo();
    const error = await setup({ setup: "echo pnpm: not found >&2; exit 127" }, true, project, tree).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(1);
    expect((error as UserError).message).toMatch(/worktree.setup .* failed \(exit 127\)/);
    expect((error as UserError).message).toContain("pnpm: not found");
    expect(fs.existsSync(path.join(project, ".worktrees/w/setup.json"))).toBe(false);
  });

  it("stops a setup that hangs at the run's step timeout", async () => {
    const project = makeRepo();
    const tree = makeRepo();
    const error = await setup({ setup: "sleep 30" }, true, project, tree, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/failed \(timed out after 300ms, execution.timeout_per_step\)/);
  });

  it("says a setup cut short by Ctrl-C was cancelled (exit 130), tells as it starts, and advises no fix to the command", async () => {
    const project = makeRepo();
    const tree = makeRepo();
    const controller = new AbortController();
    const started: string[] = [];
    const running = provisionWorktree({
      projectDir: project,
      workdir: tree,
      settings: { copy: [], link: [], setup: "sleep 30" },
      created: true,
      stateDir: path.join(project, ".worktrees", "w"),
      env: process.env,
      signal: controller.signal,
      onSetupStart: (logFile) => {
        started.push(logFile);
        setTimeout(() => controller.abort("SIGINT"), 100);
      },
    });
    const error = await running.catch((e: unknown) => e);
    expect(started).toEqual([path.join(project, ".worktrees/w/setup.log")]);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(130);
    expect((error as UserError).message).toMatch(/^worktree.setup "sleep 30" was cancelled; no step ran/);
    expect((error as UserError).options.fix).toBe("run again: the setup starts over in that lane");
  });
});
