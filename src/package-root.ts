import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The package's own folder (package.json, schemas/). The code runs from several depths: src/ in
 * tests, dist/ as tsc wrote it, dist/bundle/ as the CLI's bundle; so the nearest folder upwards
 * with a package.json, not a fixed `../`.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return (cached = dir);
}
