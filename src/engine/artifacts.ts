import fs from "node:fs";
import path from "node:path";
import picomatch from "picomatch";

/**
 * A step's `artifacts`: the files its globs match in its working directory (its lane, which is
 * reused by the next step and gone after the run), copied once it has passed to
 * `.worktrees/<id>/artifacts/<step>/` under the same relative paths, so a build's sdist outlives
 * the lane and `ws export github` can upload it. A copy, not a move: the lane stays as the step
 * left it for the commit. Only files the passing attempt wrote count (modified since it started):
 * a reused lane keeps the ignored files of the steps before, and last week's sdist in dist/ is
 * not this build's output.
 */

export interface CollectedArtifacts {
  /** Relative paths copied, sorted. */
  files: string[];
  /** Globs that matched no file the step wrote (said as a warning, as actions/upload-artifact does). */
  unmatched: string[];
  /** Matching files left out because they are older than the attempt. */
  stale: number;
}

/** Folders never searched: git's, and ws's own run state. */
const NEVER = new Set([".git", ".worktrees"]);

/** `since`: when the passing attempt started (ms since the epoch). */
export function collectArtifacts(options: { cwd: string; patterns: readonly string[]; to: string; since: number }): CollectedArtifacts {
  const { cwd, patterns, to, since } = options;
  let stale = 0;
  fs.rmSync(to, { recursive: true, force: true });
  const files = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    const found = matches(cwd, pattern);
    const fresh = found.filter((file) => writtenSince(fs.statSync(path.join(cwd, file)).mtimeMs, since));
    stale += found.length - fresh.length;
    if (fresh.length === 0) unmatched.push(pattern);
    for (const file of fresh) files.add(file);
  }
  const sorted = [...files].sort();
  for (const file of sorted) {
    const target = path.join(to, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(cwd, file), target);
  }
  return { files: sorted, unmatched, stale };
}

/**
 * A file system that keeps whole seconds only (HFS+, FAT) gives a time with no milliseconds, and
 * then only the second is compared. Others are compared to the millisecond: a run one second
 * after the last would otherwise take the last run's files as its own. The slack is the kernel's
 * coarse clock, which stamps a file up to a tick (4-10 ms) behind the time ws read.
 */
function writtenSince(mtimeMs: number, since: number): boolean {
  if (mtimeMs % 1000 === 0) return mtimeMs >= Math.floor(since / 1000) * 1000;
  return mtimeMs >= since - CLOCK_SLACK_MS;
}
const CLOCK_SLACK_MS = 10;

/**
 * Regular files under `cwd` that `pattern` matches. The walk starts at the glob's literal prefix
 * (`dist/*.whl` reads only dist/) and follows no symlink: a linked `.venv` or `node_modules` is
 * the environment, not the step's output, and a link may lead out of the lane.
 */
function matches(cwd: string, pattern: string): string[] {
  const scan = picomatch.scan(pattern);
  const base = scan.isGlob ? scan.base : path.posix.dirname(pattern);
  const isMatch = picomatch(pattern, { dot: true });
  const found: string[] = [];
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(cwd, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory() && !NEVER.has(entry.name)) walk(child);
      else if (entry.isFile() && isMatch(child)) found.push(child);
    }
  };
  walk(base === "." ? "" : base);
  return found;
}
