import fs from "node:fs";
import path from "node:path";
import { gitDirChanges, readGitDir, restoreGitDir, type GitDirFiles, type GitDirWatch } from "./git-dir-guard.js";

/**
 * A lane's own git dir (issue 31). A lane is not a worktree of the user's repository, whose
 * config, hooks, info/ and refs it would share: it is a repository of its own whose git dir lies
 * beside it (`lane-<n>.git`, named by the lane's `.git` file as a worktree's is), borrowing the
 * user's objects through `objects/info/alternates`, so checking out a base copies no object.
 * Whatever a step writes into it (a hook, `git config`, `git branch -f main`) stays in the lane.
 *
 * ws owns that git dir: before its own git runs there (each time the lane is taken), the config is
 * rewritten to the few settings git itself wrote at `git init` plus `protocol.file.allow=never`,
 * and hooks/, info/, refs and the files that redirect git (commondir, gitdir, config.worktree, the
 * alternates) are put back to what ws made. A filter, an fsmonitor or an alias a step planted (or
 * an interrupted run left) is gone before ws's next git command there can read it, which no `-c`
 * on ws's command line could promise for filters in general. Plain file operations only: git
 * reads this very config before it does anything.
 */

/**
 * Where a run branch's pins live in the user's repository: `refs/ws-pins/<branch without ws/>`,
 * one ref per lane at the commit it is checked out at. Not a branch (no `git branch` lists it),
 * and the watch of the user's refs leaves it out as it does ws's branches.
 */
export function pinsOf(branch: string): string {
  return `${PINS}${branch.replace(/^ws\//, "")}`;
}

export const PINS = "refs/ws-pins/";

/** Where a lane's git dir lives: beside the lane, never inside it (the step's tree holds only a `.git` file). */
export function laneGitDir(root: string): string {
  return `${root}.git`;
}

/** The text of the lane's `.git` file: what a step replacing it is compared against. */
export function laneDotGit(root: string): string {
  return `gitdir: ${laneGitDir(root)}\n`;
}

/** What of a lane's git dir a step must leave alone: all of it but HEAD (put back on its own, see
 *  branch-guard.ts), the index, reflogs and the lane's own objects. */
export function laneWatch(gitDir: string): GitDirWatch {
  return {
    folders: ["hooks", "info", "refs"].map((f) => path.join(gitDir, f)),
    files: ["config", "packed-refs", "commondir", "gitdir", "config.worktree", "objects/info/alternates"].map((f) => path.join(gitDir, f)),
  };
}

/** The settings of `git init` a lane keeps (none runs a program; `bare` is always made false); everything else a config holds is dropped. */
const KEPT: Record<string, readonly string[]> = {
  core: ["repositoryformatversion", "filemode", "bare", "symlinks", "ignorecase", "precomposeunicode", "logallrefupdates"],
  extensions: ["objectformat"],
};

/**
 * The lane's config as ws wants it: the kept `git init` settings read from what is there (a plain
 * `[section]` and `key = value` reading; anything else is dropped), `bare = false`, and
 * `protocol.file.allow = never`, so that a plain `git push <your repository's path>` or a fetch
 * from a path, run in the lane, is refused by git itself (a step can still override that on its
 * own command line: see the README's isolation table).
 */
export function ownConfig(text: string): string {
  const kept = new Map<string, Map<string, string>>();
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[([A-Za-z0-9.-]+)\]$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      continue;
    }
    if (line.startsWith("[")) {
      section = undefined; // a subsection ([filter "x"], [alias], [include]): never kept
      continue;
    }
    const setting = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*([A-Za-z0-9_.-]*)\s*$/.exec(line);
    const key = setting?.[1]?.toLowerCase();
    if (section === undefined || key === undefined || !(KEPT[section] ?? []).includes(key)) continue;
    if (!kept.has(section)) kept.set(section, new Map());
    kept.get(section)!.set(key, setting![2]!);
  }
  const core = kept.get("core") ?? new Map<string, string>();
  core.set("bare", "false");
  if (!core.has("repositoryformatversion")) core.set("repositoryformatversion", "0");
  const lines = ["[core]", ...[...core].map(([k, v]) => `\t${k} = ${v}`)];
  const extensions = kept.get("extensions");
  if (extensions && extensions.size > 0) lines.push("[extensions]", ...[...extensions].map(([k, v]) => `\t${k} = ${v}`));
  lines.push('[protocol "file"]', "\tallow = never");
  return lines.join("\n") + "\n";
}

/** The user's `info/exclude` and `info/attributes` (the user's own ignores and attributes, which a
 *  worktree shared and a lane gets a copy of; neither can make git run a program by itself). */
export type UserInfo = Map<string, Buffer>;

const INFO_FILES = ["exclude", "attributes"];

/** The user's info files, read from their git dir (the folder that holds `objects`). */
export function readUserInfo(userObjects: string): UserInfo {
  const info: UserInfo = new Map();
  for (const name of INFO_FILES) {
    try {
      info.set(name, fs.readFileSync(path.join(path.dirname(userObjects), "info", name)));
    } catch {
      // none: the lane has none either
    }
  }
  return info;
}

/**
 * Puts a lane's git dir back to what ws made: its config owned (ownConfig), no hooks/, info/
 * holding exactly a copy of the user's `exclude` and `attributes`, refs/ holding only the empty
 * `heads` and `tags` folders and no packed-refs, no file that redirects git elsewhere, the
 * alternates naming the user's objects. Returns what it had to change, as paths relative to the
 * git dir (nothing for a lane as ws left it).
 */
export function ownLaneGitDir(gitDir: string, userObjects: string, userInfo: UserInfo = new Map()): string[] {
  const changed: string[] = [];
  const config = path.join(gitDir, "config");
  const before = readText(config);
  const owned = ownConfig(before ?? "");
  if (before !== owned) {
    fs.writeFileSync(config, owned);
    if (before !== undefined) changed.push("config");
  }
  const info = path.join(gitDir, "info");
  if (!sameInfo(info, userInfo)) {
    if (fs.existsSync(info) || isLink(info)) changed.push("info");
    fs.rmSync(info, { recursive: true, force: true });
    if (userInfo.size > 0) fs.mkdirSync(info);
    for (const [name, bytes] of userInfo) fs.writeFileSync(path.join(info, name), bytes);
  }
  for (const extra of ["hooks", "packed-refs", "commondir", "gitdir", "config.worktree"]) {
    const file = path.join(gitDir, extra);
    if (fs.existsSync(file) || isLink(file)) {
      fs.rmSync(file, { recursive: true, force: true });
      changed.push(extra);
    }
  }
  const refs = path.join(gitDir, "refs");
  if (isLink(refs)) fs.rmSync(refs, { force: true });
  for (const entry of readDir(refs)) {
    if ((entry === "heads" || entry === "tags") && readDir(path.join(refs, entry)).length === 0 && !isLink(path.join(refs, entry))) continue;
    fs.rmSync(path.join(refs, entry), { recursive: true, force: true });
    changed.push(`refs/${entry}`);
  }
  for (const folder of ["heads", "tags"]) fs.mkdirSync(path.join(refs, folder), { recursive: true });
  const alternates = path.join(gitDir, "objects", "info", "alternates");
  const wanted = `${userObjects}\n`;
  const said = readText(alternates);
  if (said !== wanted) {
    fs.mkdirSync(path.dirname(alternates), { recursive: true });
    fs.writeFileSync(alternates, wanted);
    if (said !== undefined) changed.push("objects/info/alternates");
  }
  return changed;
}

/**
 * What a step changed in its lane's git dir since `baseline`: put back, the step's version kept
 * under `keepDir`; one finding naming the paths, or none. Everything but the refs is put back
 * first, then `meanwhile` runs (ws's git in the lane: HEAD put back needs the branch a step
 * checked out to find the history it made), then the refs; no ref makes git run a program.
 */
export async function checkLaneGitDir(gitDir: string, baseline: GitDirFiles, keepDir: string, meanwhile: () => Promise<string[]>): Promise<string[]> {
  const now = await readGitDir(laneWatch(gitDir));
  const changed = gitDirChanges(baseline, now);
  const kept = path.join(keepDir, "lane-git-dir");
  const isRef = (file: string) => file === path.join(gitDir, "packed-refs") || file === path.join(gitDir, "refs") || file.startsWith(path.join(gitDir, "refs") + path.sep);
  await restoreGitDir(changed.filter((f) => !isRef(f)), baseline, gitDir, kept);
  const later = await meanwhile();
  await restoreGitDir(changed.filter(isRef), baseline, gitDir, kept);
  if (changed.length === 0) return later;
  // The deepest paths name it: hooks/pre-commit, not the hooks folder it needed.
  const names = changed.filter((p) => !changed.some((q) => q.startsWith(p + path.sep)));
  return [`changed its lane's git dir (${names.map((f) => path.relative(gitDir, f)).join(", ")}), which only the step could have done; put back, the step's version is kept in ${kept}`, ...later];
}

function sameInfo(info: string, wanted: UserInfo): boolean {
  if (isLink(info)) return false;
  const names = readDir(info);
  if (!fs.existsSync(info)) return wanted.size === 0;
  if (names.length !== wanted.size) return false;
  return names.every((name) => {
    const bytes = wanted.get(name);
    try {
      return bytes !== undefined && fs.lstatSync(path.join(info, name)).isFile() && fs.readFileSync(path.join(info, name)).equals(bytes);
    } catch {
      return false;
    }
  });
}

/** A file's text, or undefined when it is not there (or not readable). */
export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
