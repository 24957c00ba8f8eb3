import { describe, expect, it } from "vitest";
import fs from "node:fs";
import module from "node:module";
import path from "node:path";
import { removeTempProjects, tempProjectOf, ws } from "../helpers/cli.js";

const repo = path.resolve(import.meta.dirname, "../..");
const HEAVY = ["ajv", "yaml", "execa", "ora", "@hpcc-js/wasm-graphviz", "@resvg/resvg-js", "cli-table3", "picomatch"];

function importsOf(args: string[], files: Record<string, object> = {}): string[] {
  const dir = tempProjectOf("ws-imports-", files);
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

describe("start-up cost", () => {
  it("ws --help loads none of the heavy packages (they are imported inside the commands)", () => {
    const loaded = importsOf(["--help"]);
    expect(loaded).toContain("commander");
    for (const pkg of HEAVY) expect(loaded.filter((s) => s === pkg || s.startsWith(pkg + "/"))).toEqual([]);
  });

  it("the trace does see a heavy package when a command needs it (the test can fail)", () => {
    const loaded = importsOf(["validate", "--ws-id", "w"], { "workstreams/w.json": { id: "w", steps: [{ id: "a", run: "true" }] } });
    expect(loaded.some((s) => s === "ajv" || s.startsWith("ajv/"))).toBe(true);
  });

  it("ws validate of a JSON file never compiles the schema (it uses the validators the build generated) and never loads yaml", () => {
    const valid = { id: "w", steps: [{ id: "a", run: "true" }] };
    const invalid = { id: "w", execution: { max_workers: "many", rate_limit_delay: 1e9 }, steps: [{ id: "a", run: "true", retries: -1 }] };
    for (const doc of [valid, invalid]) {
      const loaded = importsOf(["validate", "--ws-id", "w"], { "workstreams/w.json": doc });
      const ajv = loaded.filter((s) => s === "ajv" || s.startsWith("ajv/"));
      expect(ajv.length).toBeGreaterThan(0);
      expect(ajv.filter((s) => !s.startsWith("ajv/dist/runtime/"))).toEqual([]);
      // Nor the yaml package, for a JSON file.
      expect(loaded.filter((s) => s === "yaml" || s.startsWith("yaml/"))).toEqual([]);
    }
  });

  it("ws validate --json does not load chalk (CI reads JSON); the text report does", () => {
    const files = { "workstreams/w.json": { id: "w", steps: [{ id: "a", run: "true" }] } };
    const chalkOf = (args: string[]) => importsOf(args, files).filter((s) => s === "chalk" || s.startsWith("chalk/"));
    expect(chalkOf(["validate", "--ws-id", "w", "--json"])).toEqual([]);
    expect(chalkOf(["validate", "--ws-id", "w"]).length).toBeGreaterThan(0);
  });

  it("keeps compiled code for the next start where Node can (22.1+), and writes nothing where it cannot", () => {
    const dir = tempProjectOf("ws-compile-cache-", {});
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir };
      delete env.NODE_COMPILE_CACHE; // that variable alone would turn the cache on
      delete env.NODE_DISABLE_COMPILE_CACHE;
      expect(ws(["--help"], { cwd: dir, env }).code).toBe(0);
      const cache = path.join(dir, "node-compile-cache");
      // Not in @types/node 20: the API came with Node 22.1.
      const hasCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === "function";
      expect(fs.existsSync(cache)).toBe(hasCache);
    } finally {
      removeTempProjects();
    }
  });
});
