import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { transpileForChild } from "../store/helpers.js";
import { fixture, tempDir, waitGone } from "./helpers.js";

/** runProcess and what it imports, transpiled for a child process to run. */
const PROC_MODULES = [
  "proc/run-process.ts", "proc/kill-tree.ts", "proc/line-splitter.ts", "proc/live-groups.ts", "proc/step-log.ts",
  "proc/launch.ts", "proc/spawn-server.ts", "tools/binary.ts", "format/shell-quote.ts", "format/duration.ts", "errors.ts",
  "proc/attempt-mark.ts", "proc/containment.ts", "proc/sandbox.ts", "proc/server-perl.ts", "proc/server-python.ts", "proc/optimizer-hold.ts",
  "proc/process-start.ts",
];

let dir: string;
beforeEach(() => (dir = tempDir()));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it("kills live groups when the process using runProcess exits without cleaning up", async () => {
  transpileForChild(dir, PROC_MODULES);
  const pidFile = path.join(dir, "grandchild.pid");
  // Like a crashing ws: process.exit while a step (and its background grandchild) still runs.
  fs.writeFileSync(
    path.join(dir, "crash.js"),
    `import { runProcess } from "./proc/run-process.js";
void runProcess({ command: ${JSON.stringify(fixture("spawns-grandchild.sh"))}, args: [${JSON.stringify(pidFile)}, "wait"],
  cwd: ${JSON.stringify(dir)}, logFile: ${JSON.stringify(path.join(dir, "a.log"))},
  onLine: (line) => { if (line.startsWith("spawned")) process.exit(9); } });
`,
  );
  const result = spawnSync(process.execPath, [path.join(dir, "crash.js")], { encoding: "utf8", timeout: 30_000 });
  expect(result.status).toBe(9);
  const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
  expect(grandchild).toBeGreaterThan(0);
  expect(await waitGone(grandchild)).toBe(true);
});

it("the spawn server dies with its owner: a kill -9 of the owner kills the running job's group", async () => {
  transpileForChild(dir, PROC_MODULES);
  const pidFile = path.join(dir, "grandchild.pid");
  fs.writeFileSync(
    path.join(dir, "owner.js"),
    `import { runProcess } from "./proc/run-process.js";
void runProcess({ command: ${JSON.stringify(fixture("spawns-grandchild.sh"))}, args: [${JSON.stringify(pidFile)}, "wait"],
  cwd: ${JSON.stringify(dir)}, logFile: ${JSON.stringify(path.join(dir, "a.log"))},
  onLine: (line) => { if (line.startsWith("spawned")) process.kill(process.pid, "SIGKILL"); } });
`,
  );
  const env = { ...process.env, WS_SPAWN: "" };
  const result = spawnSync(process.execPath, [path.join(dir, "owner.js")], { encoding: "utf8", timeout: 30_000, env });
  expect(result.signal).toBe("SIGKILL");
  const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
  expect(grandchild).toBeGreaterThan(0);
  // No exit hook ran (kill -9): only the server, seeing its input end, can have killed the group.
  expect(await waitGone(grandchild)).toBe(true);
});
