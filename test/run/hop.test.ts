import { afterAll, describe, expect, it } from "vitest";
import { git } from "../git/make-repo.js";
import { cleanup, gitProject, readEvents, wsc } from "./rig.js";

// Issue 32: the hop between steps in a git repository takes shortcuts (a lane given back clean is
// only checked out, or not even that when it is at the step's base; a step's "before" is known;
// a dependent's join is made once, partly ahead). These runs pin what the shortcuts must keep.

afterAll(cleanup);

const tree = (dir: string, ref: string) => git(dir, "ls-tree", "-r", "--name-only", ref).split("\n").filter(Boolean).sort();

describe.concurrent("the hop between steps in a git repository", () => {
  it("a chain on one lane: what an acceptance test leaves is never the next step's, in a first run and in one that reuses the lanes", async () => {
    const steps = [
      // The test leaves an untracked file in the lane after the step's files were looked at.
      { id: "a", run: "echo a > a.txt", file_scope: ["a.txt"], acceptance_tests: ["touch cache.tmp && test -s a.txt"] },
      { id: "b", run: "cat a.txt > b.txt && ls > seen.txt", file_scope: ["b.txt", "seen.txt"], depends_on: ["a"] },
      { id: "c", run: "cat b.txt > c.txt", file_scope: ["c.txt"], depends_on: ["b"] },
    ];
    const project = gitProject([{ id: "w", execution: { max_workers: 1 }, steps }]);
    for (const round of [1, 2]) {
      const r = await wsc(project, ["run", "--ws-id", "w"]);
      expect(r.code, `round ${round}: ${r.stderr}`).toBe(0);
      expect(tree(project.dir, "ws/w")).toEqual(["README.md", "a.txt", "b.txt", "c.txt", "seen.txt", "workstreams/w.json"]);
      expect(git(project.dir, "show", "ws/w:c.txt")).toBe("a");
      // b's lane held a's work and nothing its test left.
      expect(git(project.dir, "show", "ws/w:seen.txt").split("\n").sort()).toEqual(["README.md", "a.txt", "b.txt", "seen.txt", "workstreams"]);
      // Each step's commit is its own, on the branch in the chain's order.
      expect(git(project.dir, "log", "--format=%s", "ws/w").split("\n").slice(0, 3)).toEqual(["ws(c): c", "ws(b): b", "ws(a): a"]);
    }
  });

  it("a fan-out after a join: every dependent starts from all its dependencies' work, and they from one join", async () => {
    const steps = [
      { id: "p", run: "echo p > p.txt", file_scope: ["p.txt"] },
      ...["x", "y", "z"].map((id, k) => ({ id, run: `sleep 0.${k + 1} && echo ${id} > ${id}.txt`, file_scope: [`${id}.txt`], depends_on: ["p"], acceptance_tests: [`test -s ${id}.txt`] })),
      ...["j1", "j2", "j3"].map((id) => ({ id, run: `cat p.txt x.txt y.txt z.txt > ${id}.txt`, file_scope: [`${id}.txt`], depends_on: ["x", "y", "z"] })),
    ];
    const project = gitProject([{ id: "f", execution: { max_workers: 3 }, steps }]);
    const r = await wsc(project, ["run", "--ws-id", "f"]);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ["j1", "j2", "j3"]) expect(git(project.dir, "show", `ws/f:${id}.txt`).split("\n")).toEqual(["p", "x", "y", "z"]);
    const commits = readEvents(project, "f").filter((e) => e.type === "step-end" && ["j1", "j2", "j3"].includes(String(e.step))).map((e) => String(e.commit));
    const bases = new Set(commits.map((sha) => git(project.dir, "rev-parse", `${sha}^1`)));
    expect(bases.size).toBe(1);
    // Every merge ws made (its tree made in process where it could) is the tree git's merge-tree
    // makes of the same two parents, and every step's commit changed exactly its own file.
    const merges = git(project.dir, "rev-list", "--merges", "--all").split("\n").filter(Boolean);
    expect(merges.length).toBeGreaterThan(0);
    for (const merge of merges) expect(git(project.dir, "rev-parse", `${merge}^{tree}`)).toBe(git(project.dir, "merge-tree", "--write-tree", `${merge}^1`, `${merge}^2`));
    for (const event of readEvents(project, "f").filter((e) => e.type === "step-end" && e.commit !== undefined)) {
      expect(git(project.dir, "diff-tree", "--no-commit-id", "--name-only", "-r", String(event.commit))).toBe(`${String(event.step)}.txt`);
    }
    git(project.dir, "fsck", "--strict", "--no-dangling");
  });
});
