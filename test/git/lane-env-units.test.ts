import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { farmNodeModules, needsFarm } from "../../src/git/lane-node.js";
import { namedRoots } from "../../src/git/lane-python.js";

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
