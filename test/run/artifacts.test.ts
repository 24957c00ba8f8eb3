import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gitProject, readState, ws } from "./rig.js";

afterEach(cleanup);

const build = "mkdir -p dist/sub && echo sdist > dist/pkg-1.0.tar.gz && echo wheel > dist/sub/pkg-1.0-py3-none-any.whl && echo note > dist/notes.txt";

describe("ws run: a step's artifacts", () => {
  it("are copied out of its lane once it passes, listed by ws status; a glob that matches nothing is a warning", () => {
    const p = gitProject(
      [
        {
          id: "arts",
          steps: [
            { id: "build", tool: "shell", run: build, artifacts: ["dist/*.tar.gz", "dist/**/*.whl", "wheelhouse/*.whl"] },
            { id: "broken", tool: "shell", run: `${build} && exit 1`, artifacts: ["dist/*.tar.gz"] },
          ],
        },
      ],
      // The build's output is ignored, as a Python project's dist/ is: no commit carries it.
      { ".gitignore": "dist/\n" },
    );
    const r = ws(p, ["run", "--ws-id", "arts"]);
    expect(r.code).toBe(1);
    const dir = path.join(p.dir, ".worktrees", "arts", "artifacts");
    expect(fs.readFileSync(path.join(dir, "build", "dist", "pkg-1.0.tar.gz"), "utf8")).toBe("sdist\n");
    expect(fs.readFileSync(path.join(dir, "build", "dist", "sub", "pkg-1.0-py3-none-any.whl"), "utf8")).toBe("wheel\n");
    expect(fs.existsSync(path.join(dir, "build", "dist", "notes.txt"))).toBe(false);
    // A step that did not pass hands nothing on.
    expect(fs.existsSync(path.join(dir, "broken"))).toBe(false);
    // Built in the lane, never in the user's checkout.
    expect(fs.existsSync(path.join(p.dir, "dist"))).toBe(false);
    expect(r.stdout + r.stderr).toContain('artifacts of build: no file the step wrote matches "wheelhouse/*.whl"');
    const { steps } = readState(p, "arts");
    expect(steps.build).toMatchObject({ state: "passed", artifacts: ["dist/pkg-1.0.tar.gz", "dist/sub/pkg-1.0-py3-none-any.whl"] });
    const status = ws(p, ["status", "arts"]);
    expect(status.stdout).toContain(`build: ${path.join(".worktrees", "arts", "artifacts", "build")}/ (dist/pkg-1.0.tar.gz, dist/sub/pkg-1.0-py3-none-any.whl)`);
    expect(JSON.parse(ws(p, ["status", "arts", "--json"]).stdout).steps.build.artifacts).toHaveLength(2);
    const page = path.join(p.dir, "report.html");
    expect(ws(p, ["report", "arts", "-o", page]).code).toBe(0);
    const html = fs.readFileSync(page, "utf8");
    const section = html.slice(html.indexOf('id="step-build"'), html.indexOf("</section>", html.indexOf('id="step-build"')));
    expect(section).toContain("artifacts in <code>.worktrees/arts/artifacts/build/</code>");
    expect(section).toContain("<li><code>dist/sub/pkg-1.0-py3-none-any.whl</code></li>");

    // The next pass replaces them: a file the build no longer makes does not linger, though the
    // reused lane still holds it (ignored files stay in a lane).
    const file = path.join(p.dir, "workstreams", "arts.json");
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { steps: Array<{ run: string }> };
    doc.steps[0]!.run = "mkdir -p dist && echo v2 > dist/pkg-2.0.tar.gz";
    fs.writeFileSync(file, JSON.stringify(doc));
    ws(p, ["run", "--ws-id", "arts", "--only", "build"]);
    expect(fs.readdirSync(path.join(dir, "build", "dist"))).toEqual(["pkg-2.0.tar.gz"]);
  });

  it("a glob leaving the working directory is refused by validate, with its position", () => {
    const p = gitProject([{ id: "bad", steps: [{ id: "build", tool: "shell", run: "true", artifacts: ["../secrets/*"] }] }]);
    const r = ws(p, ["validate", "bad"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json:\d+:\d+/);
    expect(r.stderr).toContain('a glob relative to the step\'s working directory (no leading "/", no "..")');
  });
});
