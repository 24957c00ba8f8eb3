import { readFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "./package-root.js";

let cached: string | undefined;

/** The package version, read once from package.json (shown by --version and in bug reports). */
export function version(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
