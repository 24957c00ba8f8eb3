import { describe, expect, it } from "vitest";
import { tempDirs } from "../helpers/temp-dirs.js";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { cleanEnv, ws } from "../helpers/cli.js";

/**
 * bin/code-cache.js compiles the bundle's big files itself (Node 20 has no compile cache of its own):
 * what it compiles must behave as what Node compiles, on a miss (written at exit) and on a hit.
 */
const repo = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("ws-code-cache-");

/** A copy of the launcher's layout (bin/ beside dist/bundle/) holding one module of the test's. */
function layout(source: string): string {
  const dir = temp();
  fs.mkdirSync(path.join(dir, "bin"));
  fs.mkdirSync(path.join(dir, "dist", "bundle"), { recursive: true });
  fs.copyFileSync(path.join(repo, "bin", "code-cache.js"), path.join(dir, "bin", "code-cache.js"));
  fs.writeFileSync(path.join(dir, "bin", "ws.js"), "");
  fs.writeFileSync(path.join(dir, "dist", "bundle", "probe.cjs"), source);
  const driver = path.join(dir, "bin", "driver.cjs");
  fs.writeFileSync(
    driver,
    [
      `require("./code-cache.js").install(new Set(["probe.cjs"]), "test");`,
      `require("../dist/bundle/probe.cjs").go().then((v) => console.log(JSON.stringify(v)), (e) => { console.error(String(e)); process.exit(1); });`,
    ].join("\n"),
  );
  return driver;
}

function start(driver: string, cache: string) {
  return spawnSync(process.execPath, [driver], { env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache }, encoding: "utf8" });
}

const CACHED = ["main.cjs", "run.cjs", "status.cjs", "schema-validators.cjs"];

describe("the V8 code cache of the bundle (Node 20)", () => {
  it("a cached module's require, __filename and exports work on a miss (cache written) and on a hit", () => {
    const driver = layout(`const path = require("node:path");\nexports.go = async () => ({ sep: path.sep, file: path.basename(__filename) });`);
    const cache = temp();
    const want = { sep: "/", file: "probe.cjs" };
    const miss = start(driver, cache);
    expect(miss.stderr).toBe("");
    expect(JSON.parse(miss.stdout)).toEqual(want);
    const files = fs.readdirSync(path.join(cache, "ws", "v8"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^probe\.cjs-test-/);
    const hit = start(driver, cache);
    expect(hit.stderr).toBe("");
    expect(JSON.parse(hit.stdout)).toEqual(want);
    // A hit writes nothing: the one file is the one the miss wrote.
    expect(fs.readdirSync(path.join(cache, "ws", "v8"))).toEqual(files);
  });

  it("a module with import() is left to Node: it works, uncached (vm has no loader for it on Node 20)", () => {
    const driver = layout(`exports.go = async () => ({ sep: (await import("node:path")).sep });`);
    const cache = temp();
    for (let i = 0; i < 2; i++) {
      const r = start(driver, cache);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({ sep: "/" });
    }
    expect(fs.existsSync(path.join(cache, "ws", "v8"))).toBe(false);
  });

  it("the bundle's files the launcher caches have no import(), so each is cached", async () => {
    const { cacheable } = (await import(path.join(repo, "bin", "code-cache.js"))) as { cacheable(content: string): boolean };
    expect(fs.readFileSync(path.join(repo, "bin", "ws.js"), "utf8")).toContain(CACHED.map((name) => `"${name}"`).join(", "));
    for (const name of CACHED) expect(cacheable(fs.readFileSync(path.join(repo, "dist", "bundle", name), "utf8")), name).toBe(true);
  });

  it("ws itself: the cache is written on Node 20, Node's own used on 22+, and WS_CODE_CACHE=0 writes none", () => {
    const cache = temp();
    const cwd = temp();
    for (let i = 0; i < 2; i++) expect(ws(["--help"], { cwd, env: cleanEnv({ XDG_CACHE_HOME: cache }) }).code).toBe(0);
    const v8Dir = path.join(cache, "ws", "v8");
    const written = fs.existsSync(v8Dir) ? fs.readdirSync(v8Dir) : [];
    if (Number.parseInt(process.versions.node, 10) < 22) expect(written.some((f) => f.startsWith("main.cjs-cli-"))).toBe(true);
    else expect(written).toEqual([]);
    const off = temp();
    expect(ws(["--help"], { cwd, env: cleanEnv({ XDG_CACHE_HOME: off, WS_CODE_CACHE: "0" }) }).code).toBe(0);
    expect(fs.existsSync(path.join(off, "ws", "v8"))).toBe(false);
  });
});
