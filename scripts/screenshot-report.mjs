// `node scripts/screenshot-report.mjs [out.png]`: runs the bundled deploy demo in a temp git
// repository with the built binary (`npm run build` first), writes its `ws report`, and takes a
// screenshot of the page's top in Debian's chromium (WS_CHROMIUM to use another) for the README.
// Default output: docs/report.png.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
/* global document */

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.resolve(process.argv[2] ?? path.join(root, "docs", "report.png"));
const bin = path.join(root, "bin", "ws.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-report-shot-"));
const env = { PATH: process.env.PATH, HOME: process.env.HOME, WS_WORKTREES_DIR: path.join(dir, ".lanes") };
const run = (cmd, args, ok = [0]) => {
  try {
    return execFileSync(cmd, args, { cwd: dir, env, encoding: "utf8" });
  } catch (error) {
    if (ok.includes(error.status)) return error.stdout;
    throw error;
  }
};

try {
  fs.mkdirSync(path.join(dir, "workstreams"));
  fs.copyFileSync(path.join(root, "workstreams", "ws-deploy-pipeline.json"), path.join(dir, "workstreams", "ws-deploy-pipeline.json"));
  fs.writeFileSync(path.join(dir, "README.md"), "# demo\n");
  run("git", ["init", "-q", "-b", "main"]);
  run("git", ["-c", "user.name=demo", "-c", "user.email=demo@example.com", "add", "-A"]);
  run("git", ["-c", "user.name=demo", "-c", "user.email=demo@example.com", "commit", "-q", "-m", "demo"]);
  run(process.execPath, [bin, "run", "ws-deploy-pipeline", "--quiet"]);
  const report = run(process.execPath, [bin, "report", "ws-deploy-pipeline"]).trim();
  const browser = await chromium.launch({ executablePath: process.env.WS_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(report).href, { waitUntil: "load" });
    // The header, the timeline and the graph: what a reader sees first.
    const bottom = await page.evaluate(() => document.querySelector("#graph")?.getBoundingClientRect().bottom ?? 900);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) + 12 } });
  } finally {
    await browser.close();
  }
  process.stdout.write(out + "\n");
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
