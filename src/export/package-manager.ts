import fs from "node:fs";
import path from "node:path";

/**
 * The repository's package manager, as its own files say: the `packageManager` field of
 * package.json (corepack's, `pnpm@9.15.9`) first, then the lockfile. An exported job has to set
 * it up and install with it, or the steps' own commands (`pnpm run build`) find no
 * node_modules; npm in a pnpm tree is worse than nothing (see README, "Install it where you
 * work").
 */

export type PackageManagerName = "npm" | "pnpm" | "yarn" | "bun";

export type PackageManager =
  | { name: "none" }
  | {
      name: PackageManagerName;
      /** From `packageManager` (`pnpm@9.15.9` → `9.15.9`); undefined when only a lockfile says which. */
      version: string | undefined;
      /** The lockfile at the root, undefined when there is none (then no frozen install is possible). */
      lockfile: string | undefined;
      /** Yarn 2+ (berry): `--immutable` and corepack instead of yarn 1's `--frozen-lockfile`. */
      berry: boolean;
      /** pnpm-lock.yaml's lockfileVersion, for the pnpm major to set up when package.json names none. */
      lockfileVersion: string | undefined;
    };

const LOCKFILES: Array<[string, PackageManagerName]> = [
  ["pnpm-lock.yaml", "pnpm"],
  ["yarn.lock", "yarn"],
  ["bun.lock", "bun"],
  ["bun.lockb", "bun"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];

export interface PackageJson {
  packageManager?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export function readPackageJson(root: string): PackageJson | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, "package.json"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as PackageJson;
  } catch {
    // A broken package.json breaks every install anyway; detection treats it as a plain npm project.
    return {};
  }
}

export function detectPackageManager(root: string): PackageManager {
  const pkg = readPackageJson(root);
  const declared = typeof pkg?.packageManager === "string" ? /^(npm|pnpm|yarn|bun)@(\d[^+\s]*)/.exec(pkg.packageManager) : null;
  const locked = LOCKFILES.find(([file]) => fs.existsSync(path.join(root, file)));
  if (!declared && !locked && !pkg) return { name: "none" };
  const name = (declared?.[1] as PackageManagerName | undefined) ?? locked?.[1] ?? "npm";
  const version = declared?.[2];
  const lockfile = LOCKFILES.find(([file, pm]) => pm === name && fs.existsSync(path.join(root, file)))?.[0];
  const lockText = lockfile && lockfile !== "bun.lockb" ? fs.readFileSync(path.join(root, lockfile), "utf8") : "";
  const berry =
    name === "yarn" &&
    ((version !== undefined && !version.startsWith("1.")) || fs.existsSync(path.join(root, ".yarnrc.yml")) || lockText.includes("__metadata:"));
  const lockfileVersion = name === "pnpm" ? /^lockfileVersion:\s*'?([\d.]+)'?/m.exec(lockText)?.[1] : undefined;
  return { name, version, lockfile, berry, lockfileVersion };
}

/** The pnpm major that writes (and reads) a lockfile version: 9.0 → 9, 6.x → 8, 5.4 → 7. */
export function pnpmForLockfile(lockfileVersion: string | undefined): string {
  const major = Number((lockfileVersion ?? "9").split(".")[0]);
  if (major >= 9) return "9";
  if (major >= 6) return "8";
  return "7";
}

/** The install that uses the lockfile as it is and fails when package.json disagrees with it. */
export function installCommand(pm: PackageManager): string | undefined {
  switch (pm.name) {
    case "none":
      return undefined;
    case "npm":
      return pm.lockfile ? "npm ci --no-audit --no-fund" : "npm install --no-audit --no-fund";
    case "pnpm":
      return pm.lockfile ? "pnpm install --frozen-lockfile" : "pnpm install";
    case "yarn":
      if (pm.berry) return pm.lockfile ? "yarn install --immutable" : "yarn install";
      return pm.lockfile ? "yarn install --frozen-lockfile" : "yarn install";
    case "bun":
      return pm.lockfile ? "bun install --frozen-lockfile" : "bun install";
  }
}

/**
 * How to run a binary the install put in node_modules/.bin. Never a form that fetches a
 * package when the bin is missing (`npx ws` would install npm's unrelated `ws`).
 */
export function execPrefix(pm: PackageManager): string {
  switch (pm.name) {
    case "pnpm":
      return "pnpm exec";
    case "yarn":
      return "yarn run";
    case "bun":
      return "bun run";
    default:
      return "npm exec --no --";
  }
}

export function describePackageManager(pm: PackageManager): string {
  if (pm.name === "none") return "no package manager (no package.json)";
  const what = `${pm.name}${pm.version ? ` ${pm.version}` : ""}${pm.name === "yarn" ? (pm.berry ? " (berry)" : " (classic)") : ""}`;
  return `${what}, ${pm.lockfile ?? "no lockfile"}`;
}
