import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dirs: string[] = [];

/** Runs git in `cwd` and returns its stdout (trailing newline dropped). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "core.quotepath=off", ...args], { cwd, encoding: "utf8", env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } }).replace(/\n$/, "");
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
}

export function read(root: string, file: string): string {
  return fs.readFileSync(path.join(root, file), "utf8");
}

export function exists(root: string, file: string): boolean {
  return fs.existsSync(path.join(root, file));
}

/** A temp git repository holding `files` in one commit. */
export function makeRepo(files: Record<string, string> = { "README.md": "# test\n" }): string {
  const root = makeEmptyRepo();
  writeFiles(root, files);
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "initial");
  return root;
}

/** A temp git repository with an identity configured and no commits. */
export function makeEmptyRepo(): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ws-git-")));
  dirs.push(root);
  git(root, "init", "-q", "-b", "main");
  // What three `git config` calls would write, without three more git processes per repository.
  fs.appendFileSync(path.join(root, ".git", "config"), "[user]\n\tname = Test Author\n\temail = author@example.com\n[commit]\n\tgpgsign = false\n");
  return root;
}

/** `git status --porcelain` as a sorted list of lines (untracked files listed one by one). */
export function status(cwd: string): string[] {
  return git(cwd, "status", "--porcelain=v1", "--untracked-files=all").split("\n").filter(Boolean).sort();
}

export function removeRepos(): void {
  // Retried: a git ws started may still be writing into .git/objects (CI once saw ENOTEMPTY).
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
