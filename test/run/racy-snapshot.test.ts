import fs from "node:fs";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { cleanup, makeProject, wsc } from "./rig.js";

afterAll(cleanup);

// `git commit`, then at once `echo dirty > src/file.txt` (same size): the file's stat still
// matches its index entry to the second, and only the index's own mtime (same second) tells git to
// look at the content. Made deterministic by setting the three times within one second long past;
// ctime is real time, so the repository ignores it (core.trustctime=false) as git ignores its
// sub-second part.
it("a file rewritten in the second the index was written is uncommitted in the run's base, and the step sees it", async () => {
  const project = makeProject([{ id: "w", steps: [{ id: "see", tool: "shell", run: "cat src/file.txt" }] }]);
  const file = path.join(project.dir, "src", "file.txt");
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, "clean\n");
  const second = 1_600_000_000;
  fs.utimesSync(file, second + 0.1, second + 0.1);
  git(project.dir, "init", "-q", "-b", "main");
  git(project.dir, "config", "user.name", "T");
  git(project.dir, "config", "user.email", "t@example.com");
  git(project.dir, "config", "core.trustctime", "false");
  git(project.dir, "add", "-A");
  git(project.dir, "commit", "-q", "-m", "initial");
  fs.writeFileSync(file, "dirty\n");
  fs.utimesSync(file, second + 0.3, second + 0.3);
  fs.utimesSync(path.join(project.dir, ".git", "index"), second + 0.2, second + 0.2);

  const r = await wsc(project, ["run", "--ws-id", "w"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("base: the working tree, includes 1 uncommitted file (src/file.txt;");
  const logs = await wsc(project, ["logs", "--ws-id", "w", "--step", "see"]);
  expect(logs.stdout).toContain("dirty");
  expect(logs.stdout).not.toContain("clean");
});
