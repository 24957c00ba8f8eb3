"use strict";
// V8's compiled code of the bundle's big files, kept on disk between starts: Node 20 has no
// module.enableCompileCache (22.1+ does, and bin/ws.js uses it there instead). Compiling run.cjs,
// main.cjs and the schema validators was the largest share of a one-step run left (bench/NOTES.md,
// issue 32, start-up, third round). The cache is V8's own: it checks V8's version, the flags and
// the source's length, and rejects (then ws compiles as before) on a mismatch. The length is not
// the content, so the file's name carries its inode, size and change time: a reinstall or rebuild
// makes a new name. WS_CODE_CACHE=0 turns it off.
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const vm = require("node:vm");

function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(require("node:os").homedir(), ".cache");
  return path.join(base, "ws", "v8");
}

/** Scripts compiled without a usable cache, to write later; `clean`: loaded under the start's flags. */
const pending = [];
/** A flag set since the start (the wrapper below), by name: how to set it back. */
const changed = new Map();
/** The flags a run changes, each with its value when Node starts (V8 11's defaults). */
const RESTORE = { "semi-space-growth-factor": "--semi-space-growth-factor=2", turbofan: "--turbofan", "expose-gc": "--no-expose-gc" };

function compileCached(mod, content, filename, tag) {
  const st = fs.statSync(filename);
  const key = `${path.basename(filename)}-${tag}-${process.version}-${st.ino}-${st.size}-${Math.floor(st.ctimeMs * 1000)}.bin`;
  const file = path.join(cacheDir(), key);
  let cachedData;
  try {
    cachedData = fs.readFileSync(file);
  } catch {
    // None yet: compiled as before, and written later.
  }
  const script = new vm.Script(Module.wrap(content), { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) pending.push({ script, file, clean: changed.size === 0 });
  const fn = script.runInThisContext({ displayErrors: true });
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.cache = Module._cache;
  require.main = process.mainModule;
  return fn.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
}

/**
 * V8's check includes its flags, and a run sets some as it goes (the young generation, TurboFan's
 * hold, --expose-gc). A file loaded under the start's flags is written at exit, with everything
 * compiled by then (V8 compiles a function on its first call), those flags set back first (V8's
 * hash is of the values: a flag set back gives the start's hash again); one loaded after a change
 * is written before the next change, or at exit before the flags are set back.
 */
function save(which, set, v8) {
  for (const entry of [...pending]) {
    if (!which(entry)) continue;
    pending.splice(pending.indexOf(entry), 1);
    try {
      if (entry.clean && set) for (const flags of changed.values()) set.call(v8, flags);
      write(entry.script.createCachedData(), entry.file);
    } catch {
      // A read-only or full cache folder: the next start compiles, as without one.
    }
  }
}

/**
 * A script of vm's gets a loader for import() only behind an experimental flag or warning on Node
 * 20, so a file with one is left to Node (uncached) rather than break at its import() (the build
 * keeps the cached files free of them: test/cli/code-cache.test.ts).
 */
function cacheable(content) {
  return !/\bimport\s*\(/.test(content);
}
exports.cacheable = cacheable;

/** Past this, another build's cache of the same file is taken for gone (each build is a new name). */
const STALE_MS = 7 * 24 * 3600 * 1000;

function write(data, file) {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
  // A miss is rare (a new build), so the folder is tidied then: older builds' files of this name.
  const prefix = path.basename(file).split("-").slice(0, 2).join("-") + "-";
  for (const name of fs.readdirSync(dir)) {
    const other = path.join(dir, name);
    if (name.startsWith(prefix) && other !== file && Date.now() - fs.statSync(other).mtimeMs > STALE_MS) fs.rmSync(other, { force: true });
  }
}

/** names: the bundle's files to cache; tag: what tells this start's V8 flags apart; v8 if loaded. */
exports.install = function install(names, tag, v8) {
  if (process.env.WS_CODE_CACHE === "0") return;
  let set;
  if (v8) {
    set = v8.setFlagsFromString;
    v8.setFlagsFromString = (flags) => {
      const name = /^--(?:no-)?([\w-]+)/.exec(flags)?.[1];
      save((entry) => !entry.clean || !(name in RESTORE), undefined, v8);
      if (name in RESTORE) changed.set(name, RESTORE[name]);
      return set.call(v8, flags);
    };
  }
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (!names.has(path.basename(filename)) || path.dirname(filename) !== bundleDir || !cacheable(content)) return compile.call(this, content, filename);
    return compileCached(this, content, filename, tag);
  };
  process.once("exit", () => {
    save((entry) => !entry.clean, undefined, v8);
    save(() => true, set, v8);
  });
};

const bundleDir = path.join(path.dirname(require.resolve("./ws.js")), "..", "dist", "bundle");
