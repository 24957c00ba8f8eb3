// Part of `npm run build`, after tsc: bundles the CLI into dist/bundle/ with esbuild, so a
// command loads two or three files instead of ~170 modules and their packages (resolving,
// reading and compiling each was most of `ws status`; bench/NOTES.md, "Start-up"). tsc's dist/
// stays as it was: the modules others import, their types, the validators.
//
// The files, CommonJS: main.cjs (commander and the command table, all `ws --help` loads); one file
// per command module that main.ts imports (status.cjs, run.cjs, ...), each holding everything that
// command runs; and a file per package that only some runs need (vendor-execa.cjs: git is
// started only in a repository; vendor-ora.cjs: the spinner only in a terminal; vendor-cli-table3.cjs:
// tables plainTable cannot draw). esbuild's own
// code splitting was tried first: it cut the shared code into a chunk per set of commands using
// it, 33 files for `ws status`, which was no faster than tsc's modules.
//
// So a command's file and main.cjs each have their own copy of the few modules both use
// (errors.ts, context.ts): nothing may rely on one module instance across that line (isUserError
// checks a brand, not instanceof). The graph renderers' packages (@hpcc-js/wasm-graphviz: 1.4 MB
// of WebAssembly in JavaScript; @resvg/resvg-js: a native addon), and ajv and yaml (required at
// run time through createRequire) stay in node_modules.
// test/cli/startup-imports.test.ts checks what each command loads.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import * as esbuild from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const src = path.join(root, "src");
export const OUT_DIR = path.join(root, "dist", "bundle");

/** Packages imported with import() that get a file of their own, loaded only when called for. */
const VENDOR = ["execa", "ora", "cli-table3"];

const common = {
  bundle: true,
  platform: "node",
  // CommonJS, not ES modules: on Node 20 an ES module of the bundle's size cost ~20 ms more to
  // load than the same code as CommonJS, and ~3 MB more memory (bench/NOTES.md, issue 32,
  // start-up); a CommonJS entry (bin/ws.js) needs no ES module loader at all.
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  target: "node20",
  // The renderers: required from node_modules when called for.
  external: ["@hpcc-js/wasm-graphviz", "@resvg/resvg-js"],
  // The sources ask createRequire(import.meta.url) for packages and for schema-validators.cjs.
  define: { "import.meta.url": "__wsModuleUrl" },
  banner: { js: '"use strict";\nconst __wsModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
};

/**
 * `import("./run.cjs")` of a file of the bundle → a `require`: import() of CommonJS from CommonJS
 * would start Node's ES module loader for nothing. What it resolves to is the same object the
 * call sites read (`.runCommand`, `.default`): each file's module.exports.
 */
function requireOwnFiles(outdir) {
  for (const name of fs.readdirSync(outdir).filter((f) => f.endsWith(".cjs"))) {
    const file = path.join(outdir, name);
    const text = fs.readFileSync(file, "utf8");
    const next = text.replace(/\bimport\("(\.\/[\w-]+\.cjs)"\)/g, (_, f) => `Promise.resolve().then(() => require("${f}"))`);
    if (next !== text) fs.writeFileSync(file, next);
  }
}

/** vendor-<package>.cjs: the package's exports, its default among them where it has one. */
function vendorEntries() {
  return {
    name: "vendor-entries",
    setup(build) {
      build.onResolve({ filter: /^vendor:/ }, (args) => ({ path: args.path.slice(7), namespace: "vendor" }));
      build.onLoad({ filter: /.*/, namespace: "vendor" }, async (args) => {
        const hasDefault = "default" in (await import(args.path));
        const contents = `export * from ${JSON.stringify(args.path)};\n${hasDefault ? `export { default } from ${JSON.stringify(args.path)};\n` : ""}`;
        return { contents, loader: "js", resolveDir: root };
      });
    },
  };
}

/** The modules main.ts imports with import(): each becomes a file of its own. */
function commandModules() {
  const text = fs.readFileSync(path.join(src, "cli", "main.ts"), "utf8");
  return [...new Set([...text.matchAll(/import\("\.\/([\w-]+)\.js"\)/g)].map((m) => m[1]))];
}

/** In main.ts: `import("./status.js")` names the bundle dist/bundle/status.cjs, not the source. */
function commandsExternal(names) {
  return {
    name: "commands-external",
    setup(build) {
      build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const name = args.path.slice(2, -3);
        if (args.kind === "dynamic-import" && path.relative(src, args.importer) === path.join("cli", "main.ts") && names.includes(name)) return { path: `./${name}.cjs`, external: true };
        return undefined;
      });
    },
  };
}

/** `import("execa")` → `import("./vendor-execa.cjs")`: the package's bundle beside the command's. */
const vendorExternal = {
  name: "vendor-external",
  setup(build) {
    const filter = new RegExp(`^(${VENDOR.join("|")})$`);
    build.onResolve({ filter }, (args) => (args.kind === "dynamic-import" ? { path: `./vendor-${args.path}.cjs`, external: true } : undefined));
  },
};

/**
 * Node's own modules as ES modules of the bundle, so esbuild hoists them into the importing code:
 * an import of a CommonJS-shaped module becomes a `__toESM` copy of its whole export object at
 * every importing module (173 of them in run.js: ~15 ms of a start, bench/NOTES.md), and every
 * call then went through two getters.
 * - A module Node has loaded before any user code runs (fs, path, url, ...) is required at once:
 *   nothing to save by waiting. Its data properties are exported by name (an accessor such as
 *   `fs.promises` or `process.stdout` is read only through the default export, as it would be).
 * - The others (child_process, crypto, net, readline, ...) are required on first use: in an ES
 *   module bundle every import of Node's modules is hoisted to the top and loaded before anything
 *   runs, also those of the modules a command loads lazily (or never): `ws status` loaded 70 of
 *   Node's internal modules where it needs a handful. The default export is an object of getters;
 *   a named function export is a function that calls the module's on first use (with `new`, it
 *   constructs: `new Transform(...)`; what it makes is an instance of the real class, not of this
 *   stand-in, so `instanceof` of a named import from such a module would be false: none here).
 */
const PRELOADED = new Set(["fs", "path", "url", "util", "events", "buffer", "timers", "module", "querystring", "async_hooks", "process"]);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(["default", "arguments", "eval", "await", "yield", "let", "static", "enum", "implements", "interface", "package", "private", "protected", "public"]);

/**
 * Each of Node's modules' exports, told apart as a fresh process sees them: `accessor` (a lazy
 * getter: fs.promises, process.allowedNodeEnvironmentFlags, which would load more if read),
 * `function` or `value`. Not in this process: importing a module as an ES module reads every
 * property for its namespace, and Node's lazy getters turn into plain values once read.
 */
let shapes;
function builtinShapes() {
  const script = `const out = {};
for (const name of require("node:module").builtinModules) {
  if (name.startsWith("_") || ["sys", "wasi", "punycode", "test"].includes(name)) continue;
  let real;
  try { real = require("node:" + name); } catch { continue; }
  const own = Object.getOwnPropertyDescriptors(real);
  out[name] = Object.fromEntries(Object.keys(real).map((k) => [k, own[k].get ? "accessor" : typeof own[k].value === "function" ? "function" : "value"]));
}
process.stdout.write(JSON.stringify(out));`;
  return (shapes ??= JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "inherit"] })));
}

function builtinModuleSource(specifier) {
  const require = `require(${JSON.stringify(specifier)})`;
  const shape = builtinShapes()[specifier.slice(5)] ?? {};
  const names = Object.keys(shape).filter((k) => IDENTIFIER.test(k) && !RESERVED.has(k));
  if (PRELOADED.has(specifier.slice(5))) {
    // Each name read only if the bundle imports it (pure, so esbuild drops the others): the shapes
    // are this Node's, and another may make a plain value a deprecated getter (fs.F_OK on Node 24
    // warns when read).
    const read = names.map((k) => `export const ${k} = /* @__PURE__ */ (() => __wsBuiltin.${k})();`);
    return [`const __wsBuiltin = ${require};`, "export default __wsBuiltin;", ...read, ""].join("\n");
  }
  const getters = names.map((k) => `${JSON.stringify(k)}: { get: () => __wsLoad()[${JSON.stringify(k)}], enumerable: true }`);
  const calls = names.filter((k) => shape[k] === "function").map((k) => `export function ${k}(...a) { return new.target ? Reflect.construct(__wsLoad().${k}, a) : __wsLoad().${k}(...a); }`);
  // A value (os.constants, timers/promises' scheduler) cannot wait: a bundle that imports one by
  // name loads the module when it starts; one that does not drops the line (pure).
  const values = names.filter((k) => shape[k] !== "function").map((k) => `export const ${k} = /* @__PURE__ */ (() => __wsLoad().${k})();`);
  return [`let __wsBuiltin;`, `const __wsLoad = () => (__wsBuiltin ??= ${require});`, `export default /* @__PURE__ */ Object.defineProperties({}, {\n${getters.join(",\n")}\n});`, ...calls, ...values, ""].join("\n");
}

const lazyBuiltins = {
  name: "lazy-builtins",
  setup(build) {
    const names = new Set(builtinModules);
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (!names.has(name) || args.kind !== "import-statement") return undefined;
      return { path: `node:${name}`, namespace: "lazy-builtin" };
    });
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({ contents: builtinModuleSource(args.path), loader: "js" }));
  },
};

/**
 * commander requires node:child_process (and with it net, dgram, streams) when it loads, for the
 * executable subcommands ws does not have: every ws command paid for it, `ws --help` included.
 * Here it is required on first use. A commander whose line differs is bundled as it is.
 */
const lazyCommanderSpawn = {
  name: "lazy-commander-spawn",
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, "utf8");
      const line = "const childProcess = require('node:child_process');";
      const lazy = "let childProcessModule;\nconst childProcess = { spawn: (...a) => (childProcessModule ??= require('node:child_process')).spawn(...a) };";
      if (!text.includes(line)) process.stderr.write(`bundle: ${line} not found in ${args.path}; commander loads child_process eagerly\n`);
      return { contents: text.replace(line, lazy), loader: "js" };
    });
  },
};

export async function bundle({ outdir = OUT_DIR } = {}) {
  fs.rmSync(outdir, { recursive: true, force: true });
  const names = commandModules();
  const builds = await Promise.all([
    esbuild.build({ ...common, entryPoints: { main: path.join(src, "cli", "main.ts") }, outdir, plugins: [commandsExternal(names), lazyBuiltins, lazyCommanderSpawn] }),
    esbuild.build({ ...common, entryPoints: Object.fromEntries(names.map((n) => [n, path.join(src, "cli", `${n}.ts`)])), outdir, plugins: [vendorExternal, lazyBuiltins] }),
    esbuild.build({ ...common, entryPoints: Object.fromEntries(VENDOR.map((p) => [`vendor-${p}`, `vendor:${p}`])), outdir, plugins: [vendorEntries(), lazyBuiltins] }),
  ]);
  requireOwnFiles(outdir);
  // src/workstream/schema.ts requires its prebuilt validators from beside itself (its bundle).
  fs.copyFileSync(path.join(root, "dist", "workstream", "schema-validators.cjs"), path.join(outdir, "schema-validators.cjs"));
  // What each file holds, for the test that proves which code a command loads (not packed).
  const outputs = Object.assign({}, ...builds.map((b) => b.metafile.outputs));
  fs.writeFileSync(path.join(root, "dist", "bundle-meta.json"), JSON.stringify({ outputs }));
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
