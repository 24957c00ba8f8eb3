import { describe, expect, it } from "vitest";
import fs from "node:fs";
import module from "node:module";
import path from "node:path";
import { removeTempProjects, tempProjectOf, ws } from "../helpers/cli.js";

/**
 * What each command loads. The CLI runs from the bundle (scripts/bundle.mjs, dist/bundle/): a
 * trace of what the process resolves names the bundle's files it loads, and the build's metafile
 * (dist/bundle-meta.json) says which sources and packages each of those files holds.
 */
const repo = path.resolve(import.meta.dirname, "../..");
const HEAVY = ["ajv", "yaml", "execa", "ora", "@hpcc-js/wasm-graphviz", "@resvg/resvg-js", "cli-table3", "picomatch", "write-file-atomic"];
/** Sources a read-only command has no use for: the renderers, the report page, the engine, the spawn layer, git plumbing. */
const NOT_FOR_STATUS = [/^src\/render\//, /^src\/report\/html-report\.ts$/, /^src\/engine\//, /^src\/proc\/(spawn-server|run-process)\.ts$/, /^node_modules\/(execa|ora|@hpcc-js|@resvg)\//];

interface Meta {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

function bundleMeta(): Meta {
  return JSON.parse(fs.readFileSync(path.join(repo, "dist", "bundle-meta.json"), "utf8")) as Meta;
}

function importsOf(args: string[], files: Record<string, object> = {}, before: string[][] = []): string[] {
  const dir = tempProjectOf("ws-imports-", files);
  for (const call of before) expect(ws(call, { cwd: dir, env: process.env }).code).toBe(0);
  const trace = path.join(dir, "trace.txt");
  fs.writeFileSync(trace, "");
  try {
    // The exit code does not matter here (validating a missing file exits 2); what was loaded does.
    ws(args, { cwd: dir, env: { ...process.env, TRACE_IMPORTS_FILE: trace }, nodeArgs: ["--import", path.join(repo, "test/fixtures/cli/trace-imports.mjs")] });
    return fs.readFileSync(trace, "utf8").split("\n").filter(Boolean);
  } finally {
    removeTempProjects();
  }
}

/** The bundle's files a trace shows loaded (main.cjs and what it imported: ./status.cjs ...). */
function bundleFiles(loaded: string[]): string[] {
  // .cjs: the launcher's own ./code-cache.js (bin/) is not the bundle's.
  return [...new Set(loaded.filter((s) => /^(\.\.\/dist\/bundle\/|\.\/)[\w-]+\.cjs$/.test(s)).map((s) => `dist/bundle/${path.basename(s)}`))];
}

/** Every source and package file those bundle files were made of. */
function inputsOf(files: string[]): string[] {
  const { outputs } = bundleMeta();
  return files.flatMap((f) => Object.keys(outputs[f]?.inputs ?? {}));
}

const packageOf = (loaded: string[], pkg: string) => loaded.filter((s) => s === pkg || s.startsWith(pkg + "/"));
const ONE_RUN = { "workstreams/w.json": { id: "w", steps: [{ id: "a", run: "true" }] } };

describe("start-up cost", () => {
  it("ws --help loads the bundle's main.cjs alone, and no package from node_modules", () => {
    const loaded = importsOf(["--help"]);
    expect(bundleFiles(loaded)).toEqual(["dist/bundle/main.cjs"]);
    for (const pkg of HEAVY) expect(packageOf(loaded, pkg)).toEqual([]);
    // commander is in main.cjs: the metafile says so (and that main.cjs holds no command).
    const inputs = inputsOf(["dist/bundle/main.cjs"]);
    expect(inputs.some((f) => f.startsWith("node_modules/commander/"))).toBe(true);
    expect(inputs.filter((f) => f.startsWith("src/") && !/^src\/(cli\/(main|context|pick-id)|errors|version|package-root)\.ts$/.test(f))).toEqual([]);
  });

  it("ws status, with and without an id, loads main.cjs and status.cjs: no renderer, engine, spawn server or git package", () => {
    for (const args of [["status"], ["status", "w"]]) {
      // After a run (outside git: no branch, so no merge advice to ask git for).
      const loaded = importsOf(args, ONE_RUN, [["run", "w"]]);
      expect(bundleFiles(loaded)).toEqual(["dist/bundle/main.cjs", "dist/bundle/status.cjs"]);
      for (const pkg of HEAVY) expect(packageOf(loaded, pkg)).toEqual([]);
      const inputs = inputsOf(bundleFiles(loaded));
      expect(inputs).toContain("src/cli/status.ts");
      for (const pattern of NOT_FOR_STATUS) expect(inputs.filter((f) => pattern.test(f))).toEqual([]);
    }
  });

  it("the trace does see what a command needs from outside the bundle (the test can fail)", () => {
    const loaded = importsOf(["validate", "--ws-id", "w"], ONE_RUN);
    expect(packageOf(loaded, "ajv").length).toBeGreaterThan(0);
    expect(bundleFiles(loaded)).toEqual(["dist/bundle/main.cjs", "dist/bundle/validate.cjs", "dist/bundle/schema-validators.cjs"]);
    // And the metafile check sees a renderer where one is bundled.
    expect(inputsOf(["dist/bundle/graph.cjs"]).some((f) => f.startsWith("src/render/"))).toBe(true);
  });

  it("ws validate of a JSON file never compiles the schema (it uses the validators the build generated) and never loads yaml", () => {
    const valid = { id: "w", steps: [{ id: "a", run: "true" }] };
    const invalid = { id: "w", execution: { max_workers: "many", rate_limit_delay: 1e9 }, steps: [{ id: "a", run: "true", retries: -1 }] };
    for (const doc of [valid, invalid]) {
      const loaded = importsOf(["validate", "--ws-id", "w"], { "workstreams/w.json": doc });
      const ajv = packageOf(loaded, "ajv");
      expect(ajv.length).toBeGreaterThan(0);
      expect(ajv.filter((s) => !s.startsWith("ajv/dist/runtime/"))).toEqual([]);
      expect(loaded).toContain("./schema-validators.cjs");
      // Nor the yaml package, for a JSON file.
      expect(packageOf(loaded, "yaml")).toEqual([]);
    }
  });

  it("keeps compiled code for the next start: Node's cache where Node has one (22.1+), else ws's (bin/code-cache.js)", () => {
    const dir = tempProjectOf("ws-compile-cache-", {});
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir, XDG_CACHE_HOME: dir };
      delete env.WS_CODE_CACHE;
      delete env.NODE_COMPILE_CACHE; // that variable alone would turn the cache on
      delete env.NODE_DISABLE_COMPILE_CACHE;
      expect(ws(["--help"], { cwd: dir, env }).code).toBe(0);
      const cache = path.join(dir, "node-compile-cache");
      // Not in @types/node 20: the API came with Node 22.1.
      const hasCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === "function";
      expect(fs.existsSync(cache)).toBe(hasCache);
      // Node 20: V8's code of each cached bundle file the command loaded, named for the file.
      const own = path.join(dir, "ws", "v8");
      const written = () => (fs.existsSync(own) ? fs.readdirSync(own).map((f) => f.split("-")[0]) : []);
      expect(written()).toEqual(hasCache ? [] : ["main.cjs"]);
      // The next start reads it and does the same; a run keeps its own (its V8 flags differ).
      const first = ws(["--help"], { cwd: dir, env });
      expect(first.code).toBe(0);
      expect(ws(["--help"], { cwd: dir, env }).stdout).toBe(first.stdout);
      expect(written()).toEqual(hasCache ? [] : ["main.cjs"]);
      fs.rmSync(own, { recursive: true, force: true });
      expect(ws(["--help"], { cwd: dir, env: { ...env, WS_CODE_CACHE: "0" } }).code).toBe(0);
      expect(written()).toEqual([]);
    } finally {
      removeTempProjects();
    }
  });
});
