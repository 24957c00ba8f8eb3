import path from "node:path";
import { git } from "./run-git.js";

/** How many backup branches `<branch>-<date>` a workstream keeps; older ones are deleted. */
export const MAX_BACKUPS = 3;

/** The trailer ws writes into every commit it makes for a workstream (step commits and the
 *  working-tree base): commits carrying it can be made again by re-running, so they need no backup. */
export const TRAILER = "Ws-Workstream";

export function trailerLine(wsId: string): string {
  return `${TRAILER}: ${wsId}`;
}

/**
 * The run's branch: `ws/<id>` for a project at the top of its repository; for a sub-project
 * (a monorepo package with its own workstreams/) the project's path is appended after an `@`,
 * e.g. `ws/ci@packages+api`, so two sub-projects with the same workstream id never share a branch.
 * Ids cannot contain `@`, so no id can produce another project's name; path characters that git
 * refuses in ref names (and `/`, which would make `ws/ci` a folder of refs) become `+` or `_`.
 */
export function runBranch(gitRoot: string, projectRoot: string, wsId: string): string {
  const rel = path.relative(gitRoot, projectRoot).split(path.sep).filter(Boolean);
  if (rel.length === 0 || rel[0] === "..") return `ws/${wsId}`;
  const safe = rel.map((part) => part.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\./, "_").replace(/\.\./g, "_.").replace(/\.lock$/, "_lock"));
  return `ws/${wsId}@${safe.join("+")}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Backup branches of `branch` (`<branch>-yyyymmdd-hhmmss[-n]`), oldest first. */
export async function listBackups(cwd: string, branch: string): Promise<string[]> {
  const result = await git(cwd, ["for-each-ref", "--format=%(refname:short)", `refs/heads/${branch}-*`]);
  const pattern = new RegExp(`^${escapeRegExp(branch)}-\\d{8}-\\d{6}(-\\d+)?$`);
  const names = result.stdout.toString("utf8").split("\n").filter((name) => pattern.test(name));
  // The timestamp sorts as text; a same-second "-n" suffix sorts after its base name.
  return names.sort((a, b) => {
    const [stampA, nA] = splitCounter(a);
    const [stampB, nB] = splitCounter(b);
    return stampA === stampB ? nA - nB : stampA < stampB ? -1 : 1;
  });
}

/**
 * A name for a new backup of `branch`, stamped with `now`. Within one second the counter goes
 * past every existing backup of that second, never into a gap left by a pruned one: a reused
 * lower number would sort as the oldest and be the next one pruned.
 */
export async function newBackupName(cwd: string, branch: string, now: Date): Promise<string> {
  const base = `${branch}-${timestamp(now)}`;
  const taken = (await listBackups(cwd, branch)).map(splitCounter).filter(([stamp]) => stamp === base);
  if (taken.length === 0) return base;
  return `${base}-${Math.max(...taken.map(([, n]) => n)) + 1}`;
}

/** `yyyymmdd-hhmmss` in local time, as backup branches and moved-aside folders are named. */
export function timestamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

function splitCounter(name: string): [string, number] {
  const match = /^(.*-\d{8}-\d{6})(?:-(\d+))?$/.exec(name);
  return [match?.[1] ?? name, Number(match?.[2] ?? 1)];
}
