// Builds dist/: each module of src/ with a banner, then imports the result to check that every
// export made it (a build that cannot be loaded is a failed build).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { root, summary } from "./project.mjs";

const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const src = path.join(root, "src");
const dist = path.join(root, "dist");
fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist);
let bytes = 0;
const modules = fs.readdirSync(src).filter((f) => f.endsWith(".js")).sort();
for (const file of modules) {
  const text = `// ${pkg.name} ${pkg.version}: built from src/${file}\n${fs.readFileSync(path.join(src, file), "utf8")}`;
  fs.writeFileSync(path.join(dist, file), text);
  bytes += Buffer.byteLength(text);
}
const built = await import(pathToFileURL(path.join(dist, "index.js")).href);
const source = await import(pathToFileURL(path.join(src, "index.js")).href);
const missing = Object.keys(source).filter((name) => typeof built[name] !== typeof source[name]);
if (missing.length > 0) {
  process.stderr.write(`build: dist/index.js lacks ${missing.join(", ")}\n`);
  process.exitCode = 1;
} else {
  summary(`dist/: ${modules.length} modules, ${bytes} bytes, exports ${Object.keys(built).sort().join(", ")}`);
}
