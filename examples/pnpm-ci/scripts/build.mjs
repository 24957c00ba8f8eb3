// The build: dist/ holds the modules, and dist/ must load with the installed dependencies.
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
fs.rmSync(path.join(root, "dist"), { recursive: true, force: true });
fs.cpSync(path.join(root, "src"), path.join(root, "dist"), { recursive: true });
const { nextVersion } = await import(path.join(root, "dist", "release.js"));
process.stdout.write(`build: dist/ loads; 1.0.0 → ${nextVersion("1.0.0", "minor")}\n`);
