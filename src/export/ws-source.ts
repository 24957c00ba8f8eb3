import fs from "node:fs";
import path from "node:path";
import { execPrefix, readPackageJson, type PackageManager } from "./package-manager.js";

/**
 * Where an exported job gets ws from. Only sources that are certain to exist: ws is not on the
 * npm registry, and a job installing an unpublished name fails, or installs whatever someone
 * registers under it later, with the jobs' secrets in reach.
 */
export type WsSource =
  /** The repository depends on ws itself: its install brings it; run through the package manager. */
  | { kind: "dependency"; spec: string }
  /** A tarball committed in the repository (a path relative to its root). */
  | { kind: "tarball"; path: string }
  /** A git URL pinned to a commit (`git+https://…#<40 hex>`): npm builds it on install. */
  | { kind: "git"; url: string };

export type WsSourceResult = { ok: true; source: WsSource; warnings: string[] } | { ok: false; message: string; fix: string };

export const WS_PACKAGE_NAME = "ws-orchestrator";

const FIX_CHOICES = [
  `commit a tarball and name it: npm pack in a clone of ws, move it to vendor/ws-orchestrator.tgz, git add it, then --ws-from vendor/ws-orchestrator.tgz`,
  `or pin a commit: --ws-from git+https://github.com/OWNER/ws.git#<40-hex commit>`,
  `or add ws to the repository (pnpm add -D ./vendor/ws-orchestrator.tgz; see the README's install section) and commit the lockfile`,
].join("\n     ");

/** `--ws-from` as given, or the repository's own dependency on ws; refused when neither is certain to install. */
export function resolveWsSource(root: string, from: string | undefined, pm: PackageManager, tracked: (file: string) => boolean | undefined): WsSourceResult {
  if (from !== undefined) return fromFlag(root, from, tracked);
  const pkg = readPackageJson(root);
  const spec = pkg?.devDependencies?.[WS_PACKAGE_NAME] ?? pkg?.dependencies?.[WS_PACKAGE_NAME];
  if (spec === undefined) {
    return { ok: false, message: `no source of ws for the jobs to install: ws is not on the npm registry, and package.json does not depend on ${WS_PACKAGE_NAME}`, fix: FIX_CHOICES };
  }
  const local = /^(file:|link:)?(\.{0,2}\/|~)/.exec(spec) ? spec.replace(/^(file:|link:)/, "") : undefined;
  if (local !== undefined && (path.isAbsolute(local) || local.startsWith("~") || path.relative(root, path.resolve(root, local)).startsWith(".."))) {
    return {
      ok: false,
      message: `package.json installs ${WS_PACKAGE_NAME} from ${spec}, outside the repository: a clone (a teammate's, a CI runner's, a worktree's setup) does not have it`,
      fix: `move the tarball into the repository (e.g. vendor/ws-orchestrator.tgz), git add it, and reinstall from there: ${addCommand(pm, "./vendor/ws-orchestrator.tgz")}`,
    };
  }
  if (pm.name === "none" || pm.lockfile === undefined) {
    return { ok: false, message: `package.json depends on ${WS_PACKAGE_NAME} (${spec}) but there is no lockfile: the jobs' install would resolve it anew`, fix: `run your package manager's install and commit its lockfile` };
  }
  if (pm.lockfile !== "bun.lockb" && !fs.readFileSync(path.join(root, pm.lockfile), "utf8").includes(WS_PACKAGE_NAME)) {
    return { ok: false, message: `package.json depends on ${WS_PACKAGE_NAME} but ${pm.lockfile} does not: the frozen install in the jobs would fail`, fix: `run ${pm.name} install and commit ${pm.lockfile}` };
  }
  return { ok: true, source: { kind: "dependency", spec }, warnings: [] };
}

function fromFlag(root: string, from: string, tracked: (file: string) => boolean | undefined): WsSourceResult {
  if (/^git\+(https|ssh):\/\//.test(from)) {
    if (!/#[0-9a-f]{40}$/.test(from)) {
      return { ok: false, message: `--ws-from ${from}: a git URL must end in #<the full 40-hex commit> (a branch or tag can move)`, fix: `--ws-from ${from.replace(/#.*$/, "")}#$(git ls-remote ${from.replace(/^git\+/, "").replace(/#.*$/, "")} v0.1.0 | cut -f1)` };
    }
    return { ok: true, source: { kind: "git", url: from }, warnings: [] };
  }
  if (!/\.(tgz|tar\.gz)$/.test(from)) {
    return { ok: false, message: `--ws-from ${from}: expected a tarball in the repository (path/to/ws-orchestrator.tgz) or a git URL with a commit (git+https://…#<sha>)`, fix: FIX_CHOICES };
  }
  const absolute = path.resolve(root, from);
  const relative = path.relative(root, absolute).split(path.sep).join("/");
  if (path.isAbsolute(from) || relative.startsWith("../")) {
    return { ok: false, message: `--ws-from ${from}: the tarball must be inside the repository (the jobs check out only the repository)`, fix: `copy it in, e.g. vendor/ws-orchestrator.tgz, git add it, then --ws-from vendor/ws-orchestrator.tgz` };
  }
  if (!fs.existsSync(absolute)) {
    return { ok: false, message: `--ws-from ${from}: no such file`, fix: `npm pack in a clone of ws, then move the tarball to ${relative} and git add it` };
  }
  const warnings = tracked(relative) === false ? [`${relative} is not committed: the jobs check out only what is; git add ${relative}`] : [];
  return { ok: true, source: { kind: "tarball", path: relative }, warnings };
}

/** The command that adds ws to a project, per package manager (npm's own in a pnpm tree breaks it). */
export function addCommand(pm: PackageManager, spec: string): string {
  switch (pm.name) {
    case "pnpm":
      return `pnpm add -D ${spec}`;
    case "yarn":
      return `yarn add -D ${pm.berry ? `${WS_PACKAGE_NAME}@file:${spec}` : spec}`;
    case "bun":
      return `bun add -d ${spec}`;
    default:
      return `npm install -D ${spec}`;
  }
}

/** The command line that runs ws in a job. */
export function wsCommand(source: WsSource, pm: PackageManager): string {
  // The bin name that cannot collide with npm's unrelated `ws` package.
  return source.kind === "dependency" ? `${execPrefix(pm)} ${WS_PACKAGE_NAME}` : "ws";
}

/** The `--ws-from` value that regenerates this source (none for a dependency: it is found again). */
export function wsFromFlag(source: WsSource): string | undefined {
  return source.kind === "tarball" ? source.path : source.kind === "git" ? source.url : undefined;
}
