import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { farmNodeModules, needsFarm } from "../../src/git/lane-node.js";
import { namedRoots, pythonLaneEnv, writePythonHook } from "../../src/git/lane-python.js";

const temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-lane-env-")));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

describe("the lane's Python source roots", () => {
  it("reads the package folder from the usual forms of pyproject.toml and setup.cfg", () => {
    expect(namedRoots('[tool.hatch.build.targets.wheel]\npackages = ["src/textkit"]\n')).toEqual(["src"]);
    expect(namedRoots('[tool.setuptools.packages.find]\nwhere = ["lib"]\n')).toEqual(["lib"]);
    expect(namedRoots('[tool.setuptools]\npackage-dir = {"" = "python"}\n')).toEqual(["python"]);
    expect(namedRoots("[options]\npackage_dir =\n    = src\n")).toEqual(["src"]);
    expect(namedRoots('packages = [{ include = "app", from = "src" }]\n')).toEqual(["src"]);
    expect(namedRoots('[tool.setuptools]\npackages = ["textkit"]\n')).toEqual([]);
    expect(namedRoots('where = ["../outside"]\n')).toEqual([]);
  });
});

describe("ws's sitecustomize in a lane", () => {
  it("points a path into the checkout at the lane, leaves the venv's alone, and still runs the user's own sitecustomize", () => {
    const checkout = path.join(temp, "py-checkout");
    const lane = path.join(temp, "py-lane");
    const hookDir = path.join(temp, "py-hook");
    const userDir = path.join(temp, "py-user");
    for (const dir of [path.join(checkout, "src"), path.join(lane, "src"), path.join(checkout, ".venv"), userDir]) fs.mkdirSync(dir, { recursive: true });
    writePythonHook(hookDir);
    // The user's own hook: it must still run after ws's, from the rest of the path.
    fs.writeFileSync(path.join(userDir, "sitecustomize.py"), "import os\nos.environ['USER_HOOK_RAN'] = '1'\n");
    const env = pythonLaneEnv({ roots: ["src"], hookDir }, lane, checkout, lane, [path.join(checkout, ".venv")]);
    const script = "import os, sys; print(os.environ.get('USER_HOOK_RAN')); print(sys.modules['sitecustomize'].__file__); print('\\n'.join(sys.path))";
    const out = execFileSync("python3", ["-c", script], {
      env: { PATH: process.env.PATH, ...env, PYTHONPATH: [env.PYTHONPATH, path.join(checkout, "src"), path.join(checkout, ".venv"), userDir].join(path.delimiter) },
      encoding: "utf8",
    }).split("\n");
    expect(out[0]).toBe("1");
    expect(out[1]).toBe(path.join(userDir, "sitecustomize.py"));
    const sysPath = out.slice(2);
    expect(sysPath).toContain(path.join(lane, "src"));
    expect(sysPath).not.toContain(path.join(checkout, "src"));
    expect(sysPath).toContain(path.join(checkout, ".venv"));
  });
});

describe("a lane's node_modules", () => {
  it("resolves a workspace package to the lane's copy, and the others to the checkout's", () => {
    const checkout = path.join(temp, "checkout");
    const lane = path.join(temp, "lane");
    for (const root of [checkout, lane]) {
      fs.mkdirSync(path.join(root, "packages/core"), { recursive: true });
      fs.writeFileSync(path.join(root, "packages/core/package.json"), '{"name":"@app/core","main":"index.js"}');
      fs.writeFileSync(path.join(root, "packages/core/index.js"), "module.exports = 1;");
    }
    fs.mkdirSync(path.join(checkout, "node_modules/@app"), { recursive: true });
    fs.mkdirSync(path.join(checkout, "node_modules/left-pad"));
    fs.writeFileSync(path.join(checkout, "node_modules/left-pad/index.js"), "module.exports = 2;");
    fs.symlinkSync("../../packages/core", path.join(checkout, "node_modules/@app/core"));
    expect(needsFarm(checkout, lane, "node_modules")).toBe(true);
    farmNodeModules(checkout, lane, "node_modules");
    const resolve = (name: string) => execFileSync(process.execPath, ["-p", `require.resolve(${JSON.stringify(name)})`], { cwd: lane, encoding: "utf8" }).trim();
    expect(resolve("@app/core")).toBe(path.join(lane, "packages/core/index.js"));
    expect(resolve("left-pad")).toBe(path.join(checkout, "node_modules/left-pad/index.js"));
    // Again, as a reused lane: nothing to change, same answers.
    farmNodeModules(checkout, lane, "node_modules");
    expect(resolve("@app/core")).toBe(path.join(lane, "packages/core/index.js"));
  });

  it("is one link when no workspace package is linked in there", () => {
    const checkout = path.join(temp, "plain");
    fs.mkdirSync(path.join(checkout, "node_modules/left-pad"), { recursive: true });
    expect(needsFarm(checkout, path.join(temp, "plain-lane"), "node_modules")).toBe(false);
  });
});
