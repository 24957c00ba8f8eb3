// The first half of `npm test`: build, type check and lint, side by side. Each is one
// single-threaded process and none needs another's output, so on 2 cores they take ~25 s
// together instead of ~43 s one after the other. Each one's output is printed whole when it ends,
// so the three never interleave; the exit code is non-zero if any failed.
import { spawn } from "node:child_process";

const SCRIPTS = ["build", "typecheck", "lint"];
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];

function run(script) {
  return new Promise((resolve) => {
    const child = spawn(npm[0], [...npm.slice(1), "run", "--silent", script], { stdio: ["ignore", "pipe", "pipe"] });
    const output = [];
    child.stdout.on("data", (chunk) => output.push(chunk));
    child.stderr.on("data", (chunk) => output.push(chunk));
    child.on("error", (error) => resolve({ script, code: 1, output: [Buffer.from(`${error.message}\n`)] }));
    child.on("close", (code, signal) => resolve({ script, code: code ?? (signal ? 1 : 0), output }));
  }).then((result) => {
    process.stdout.write(`> npm run ${script}: ${result.code === 0 ? "ok" : `failed (exit ${result.code})`}\n`);
    process.stdout.write(Buffer.concat(result.output));
    return result;
  });
}

const results = await Promise.all(SCRIPTS.map(run));
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
