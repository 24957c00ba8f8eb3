import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/**
 * Every test file gets its own temp root: TMPDIR points into it for the file's whole process
 * (so os.tmpdir() in the tests and helpers, and in any child given the test's environment, lands
 * there), and it is removed after the file's last hook (after the file's own cleanup, which kills
 * what it started). A file that forgets to delete a temp dir no longer leaves it in /tmp.
 * Children started with a clean environment (PATH and HOME only) keep the system's /tmp.
 */
const previous = process.env.TMPDIR;
const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-test-")));
process.env.TMPDIR = root;
// Worktree runs keep their worktrees in a per-user folder: a test's go into its own temp root.
const previousTrees = process.env.WS_WORKTREES_DIR;
process.env.WS_WORKTREES_DIR = path.join(root, "ws-worktrees");

afterAll(() => {
  // A worker that runs several files (isolate: false) starts the next one from the system's temp dir.
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  if (previousTrees === undefined) delete process.env.WS_WORKTREES_DIR;
  else process.env.WS_WORKTREES_DIR = previousTrees;
  try {
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  } catch (error) {
    // A process killed by the test may still be writing in it; say so rather than fail the file.
    console.warn(`temp root ${root} not fully removed: ${(error as Error).message}`);
  }
});
