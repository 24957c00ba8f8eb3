// Part of `npm run build`, after tsc: bundles the CLI into dist/bundle/ with esbuild, so a
// command loads two or three files instead of ~170 modules and their packages (resolving,
// reading and compiling each was most of `ws status`; bench/NOTES.md, "Start-up"). tsc's dist/
// stays as it was: the modules others import, their types, the validators.
//
// The files: main.js (commander and the command table, all `ws --help` loads); one file per
// command module that main.ts imports (status.js, run.js, ...), each holding everything that
// command runs; and a file per package that only some runs need (vendor-execa.js: git is
// started only in a repository; vendor-ora.js: the spinner only in a terminal; vendor-cli-table3.js:
// tables plainTable cannot draw). esbuild's own
// code splitting was tried first: it cut the shared code into a chunk per set of commands using
// it, 33 files for `ws status`, which was no faster than tsc's modules.
//
// So a command's file and main.js each have their own copy of the few modules both use
// (errors.ts, context.ts): nothing may rely on one module instance across that line (isUserError
// checks a brand, not instanceof). The graph renderers' packages (@hpcc-js/wasm-graphviz: 1.4 MB
// of WebAssembly in JavaScript; @resvg/resvg-js: a native addon), and ajv, yaml and
// write-file-atomic (required at run time through createRequire) stay in node_modules.
// test/cli/startup-imports.test.ts checks what each command loads.
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
  format: "esm",
  target: "node20",
  // write-file-atomic names __filename, which an ES module bundle has not.
  external: ["@hpcc-js/wasm-graphviz", "@resvg/resvg-js", "write-file-atomic"],
  // Bundled CommonJS packages (commander, cli-table3) call require() for Node's modules.
  banner: { js: 'import { createRequire as __wsCreateRequire } from "node:module";\nconst require = __wsCreateRequire(import.meta.url);' },
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
};

/** The modules main.ts imports with import(): each becomes a file of its own. */
function commandModules() {
  const text = fs.readFileSync(path.join(src, "cli", "main.ts"), "utf8");
  return [...new Set([...text.matchAll(/import\("\.\/([\w-]+)\.js"\)/g)].map((m) => m[1]))];
}

/** In main.ts: `import("./status.js")` names the bundle dist/bundle/status.js, not the source. */
function commandsExternal(names) {
  return {
    name: "commands-external",
    setup(build) {
      build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const name = args.path.slice(2, -3);
        if (args.kind === "dynamic-import" && path.relative(src, args.importer) === path.join("cli", "main.ts") && names.includes(name)) return { path: args.path, external: true };
        return undefined;
      });
    },
  };
}

/** `import("execa")` → `import("./vendor-execa.js")`: the package's bundle beside the command's. */
const vendorExternal = {
  name: "vendor-external",
  setup(build) {
    const filter = new RegExp(`^(${VENDOR.join("|")})$`);
    build.onResolve({ filter }, (args) => (args.kind === "dynamic-import" ? { path: `./vendor-${args.path}.js`, external: true } : undefined));
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

function builtinModuleSource(specifier, real) {
  const require = `require(${JSON.stringify(specifier)})`;
  const own = Object.getOwnPropertyDescriptors(real);
  const names = Object.keys(real).filter((k) => IDENTIFIER.test(k) && !RESERVED.has(k));
  if (PRELOADED.has(specifier.slice(5))) {
    const data = names.filter((k) => own[k] !== undefined && !own[k].get);
    const read = names.filter((k) => !data.includes(k)).map((k) => `export const ${k} = /* @__PURE__ */ (() => __wsBuiltin.${k})();`);
    return [`const __wsBuiltin = ${require};`, "export default __wsBuiltin;", `export const { ${data.join(", ")} } = __wsBuiltin;`, ...read, ""].join("\n");
  }
  const getters = names.map((k) => `${JSON.stringify(k)}: { get: () => __wsLoad()[${JSON.stringify(k)}], enumerable: true }`);
  const callable = (k) => own[k] !== undefined && !own[k].get && typeof own[k].value === "function";
  const calls = names.filter(callable).map((k) => `export function ${k}(...a) { return new.target ? Reflect.construct(__wsLoad().${k}, a) : __wsLoad().${k}(...a); }`);
  // A value (os.constants, timers/promises' scheduler) cannot wait: a bundle that imports one by
  // name loads the module when it starts; one that does not drops the line (pure).
  const values = names.filter((k) => !callable(k)).map((k) => `export const ${k} = /* @__PURE__ */ (() => __wsLoad().${k})();`);
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
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, async (args) => {
      const ns = await import(args.path);
      return { contents: builtinModuleSource(args.path, ns.default ?? ns), loader: "js" };
    });
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
    esbuild.build({ ...common, entryPoints: Object.fromEntries(VENDOR.map((p) => [`vendor-${p}`, p])), outdir, plugins: [lazyBuiltins] }),
  ]);
  // src/workstream/schema.ts requires its prebuilt validators from beside itself (its bundle).
  fs.copyFileSync(path.join(root, "dist", "workstream", "schema-validators.cjs"), path.join(outdir, "schema-validators.cjs"));
  // What each file holds, for the test that proves which code a command loads (not packed).
  const outputs = Object.assign({}, ...builds.map((b) => b.metafile.outputs));
  fs.writeFileSync(path.join(root, "dist", "bundle-meta.json"), JSON.stringify({ outputs }));
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
