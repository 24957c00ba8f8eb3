import fs from "node:fs";
import path from "node:path";

/**
 * Reading HEAD and a branch's commit from the files under `.git`, without starting git: for
 * `ws status`, where a git process (fork, exec, its own start) was most of the time when the
 * answer was already known. Anything unusual (reftable refs, a HEAD that is neither a sha nor a
 * ref, GIT_DIR in the environment) reads as undefined, and the caller asks git.
 */

export interface GitDirs {
  /** The work tree's top folder (where `.git` is). */
  top: string;
  /** The checkout's own git folder: HEAD and the index (`.git`, or `.git/worktrees/<name>`). */
  gitDir: string;
  /** Where refs and packed-refs live (the main `.git` for a linked worktree). */
  commonDir: string;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The git folders of the work tree holding `cwd`: the nearest `.git` upwards, a folder or a `gitdir:` file. */
export function gitDirsOf(cwd: string, env: NodeJS.ProcessEnv = process.env): GitDirs | undefined {
  if (env.GIT_DIR !== undefined || env.GIT_COMMON_DIR !== undefined) return undefined;
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const marker = path.join(dir, ".git");
    const stat = fs.statSync(marker, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return withCommon(dir, marker);
    if (stat?.isFile()) {
      const line = /^gitdir: (.+)$/m.exec(readText(marker) ?? "")?.[1]?.trim();
      return line === undefined ? undefined : withCommon(dir, path.resolve(dir, line));
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function withCommon(top: string, gitDir: string): GitDirs | undefined {
  const common = readText(path.join(gitDir, "commondir"))?.trim();
  const commonDir = common ? path.resolve(gitDir, common) : gitDir;
  // reftable keeps refs in binary tables: leave those to git.
  if (fs.existsSync(path.join(commonDir, "reftable"))) return undefined;
  return { top, gitDir, commonDir };
}

/** A full ref name (`refs/heads/ws/x`) as its sha: the loose file, else packed-refs. */
export function readRef(dirs: GitDirs, ref: string): string | undefined {
  const loose = readText(path.join(dirs.commonDir, ref))?.trim();
  if (loose !== undefined) return SHA.test(loose) ? loose : undefined;
  for (const line of (readText(path.join(dirs.commonDir, "packed-refs")) ?? "").split("\n")) {
    const [sha, name] = line.split(" ");
    if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
  }
  return undefined;
}

/** The commit HEAD points at: a detached sha, or the branch it names. */
export function readHead(dirs: GitDirs): string | undefined {
  const head = readText(path.join(dirs.gitDir, "HEAD"))?.trim();
  if (head === undefined) return undefined;
  if (SHA.test(head)) return head;
  const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
  return ref === undefined ? undefined : readRef(dirs, ref);
}
