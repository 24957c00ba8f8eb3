#!/usr/bin/env node
// Installs the pinned agent CLIs the real-CLI suite drives (test/real-cli/real-cli.test.ts) into a
// cache folder outside the project: they are not ws's dependencies, and a second run finds them in
// place. Called by .ci/run before `npm test`. docs/agents.md lists the versions verified.
//
//   WS_REAL_CLI_DIR   the cache folder (default ~/.cache/ws-real-clis)
//
// Exit 0 when the three are installed at the pinned versions, 1 otherwise (the suite then fails
// in CI and skips with the reason elsewhere).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** The versions verified (docs/agents.md); the suite reads the same file. */
export const PINNED = JSON.parse(fs.readFileSync(new URL("./versions.json", import.meta.url), "utf8"));

export function realCliDir(env = process.env) {
  return env.WS_REAL_CLI_DIR || path.join(os.homedir(), ".cache", "ws-real-clis");
}

function installedVersion(dir, name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

export function missing(dir) {
  return Object.entries(PINNED).filter(([name, version]) => installedVersion(dir, name) !== version).map(([name, version]) => `${name}@${version}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = realCliDir();
  const wanted = missing(dir);
  if (wanted.length === 0) {
    console.log(`real CLIs: already installed in ${dir}`);
  } else {
    fs.mkdirSync(dir, { recursive: true });
    console.log(`real CLIs: installing ${wanted.join(" ")} into ${dir}`);
    // --prefix: a folder of its own, never the project's node_modules or lockfile. claude-code 2.x
    // declares node >= 22 but ships a native binary that runs regardless: engine warnings only.
    const r = spawnSync("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", "--save-exact", ...wanted], { stdio: "inherit" });
    if (r.status !== 0) {
      console.error(`real CLIs: npm install failed (exit ${r.status ?? r.signal})`);
      process.exit(1);
    }
    const still = missing(dir);
    if (still.length > 0) {
      console.error(`real CLIs: still missing after install: ${still.join(" ")}`);
      process.exit(1);
    }
  }
}
