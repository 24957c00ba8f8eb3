// The peers of the overhead benchmark: make, ninja and wireit, found (or installed, for wireit)
// outside the project; a peer that cannot be had is skipped with a line saying how to get it,
// never a failure. None of them is a dependency of ws.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const WIREIT_VERSION = "0.14.13";
/** Outside the project, like the real-CLI suite's agent installs; WS_BENCH_PEERS moves it. */
const PEERS_DIR = process.env.WS_BENCH_PEERS ?? path.join(os.homedir(), ".cache", "ws-bench-peers");

function onPath(name) {
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(folder, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** { make, ninja, wireit, python3 }: each the path to run, or { skip: "why, and how to get it" }. */
export function findPeers(log) {
  const apt = (tool, pkg) => onPath(tool) ?? { skip: `${tool} not installed: apt-get install ${pkg}` };
  return { make: apt("make", "make"), ninja: apt("ninja", "ninja-build"), wireit: wireit(log), python3: apt("python3", "python3") };
}

function wireit(log) {
  const pkg = path.join(PEERS_DIR, "node_modules", "wireit");
  const installed = () => {
    try {
      return JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")).version === WIREIT_VERSION;
    } catch {
      return false;
    }
  };
  if (!installed()) {
    log(`  installing wireit@${WIREIT_VERSION} into ${PEERS_DIR} (once)`);
    try {
      fs.mkdirSync(PEERS_DIR, { recursive: true });
      execFileSync("npm", ["install", "--prefix", PEERS_DIR, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `wireit@${WIREIT_VERSION}`], { stdio: "ignore" });
    } catch (error) {
      return { skip: `wireit not installed (npm install --prefix ${PEERS_DIR} wireit@${WIREIT_VERSION} failed: ${error.message.split("\n")[0]})` };
    }
    if (!installed()) return { skip: `wireit not installed: npm install --prefix ${PEERS_DIR} wireit@${WIREIT_VERSION}` };
  }
  if (onPath("npm") === undefined) return { skip: "wireit needs npm on PATH (it runs as `npm run`)" };
  return pkg;
}

/**
 * A package.json whose script `all` runs the graph through wireit: one script per node, command
 * `true`, dependencies as the graph's edges. No `files`/`output`, so wireit caches nothing and
 * runs every script each time (like make's phony targets). wireit is linked into node_modules so
 * `npm run` finds its binary.
 */
export function writeWireitProject(dir, wireitPkg, names, deps) {
  const scripts = { all: "wireit" };
  const config = { all: { dependencies: names } };
  for (const [i, name] of names.entries()) {
    scripts[name] = "wireit";
    config[name] = { command: "true", dependencies: deps[i].map((d) => names[d]) };
  }
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "ws-bench-wireit", private: true, scripts, wireit: config }, null, 1));
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  fs.symlinkSync(wireitPkg, path.join(dir, "node_modules", "wireit"));
  fs.symlinkSync(path.join(wireitPkg, "bin", "wireit.js"), path.join(dir, "node_modules", ".bin", "wireit"));
}
