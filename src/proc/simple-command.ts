import path from "node:path";
import { findOnPath } from "../tools/binary.js";

/** Characters that mean nothing to a POSIX shell outside quotes (no expansion, redirection, globbing...). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;
/**
 * Words a shell runs itself, or treats as syntax: exec'ing a file of that name (if any) can differ
 * (`cd`, `exit` and `export` act on the shell; dash's `echo` reads backslashes, coreutils' does not).
 * true and false are absent on purpose: /bin/true behaves the same.
 */
const SHELL_WORDS = new Set([
  ".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done", "echo", "elif", "else",
  "esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for", "function", "getopts", "hash", "if", "in", "jobs",
  "kill", "local", "printf", "pwd", "read", "readonly", "return", "select", "set", "shift", "test", "then", "time",
  "times", "trap", "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
]);

/**
 * The argv of a command line that needs no shell (like make, which execs such lines itself and
 * saves one process per command), or undefined: then `/bin/sh -c` runs it as before.
 *
 * Only words of plain characters, or single-quoted, or double-quoted without `$`, backquote or
 * backslash; no assignment before the command, no shell word as the command, and the command must
 * be found now (on `env.PATH`, or an absolute path), so a missing one still gets the shell's
 * "not found" and exit 127.
 */
export function simpleArgv(line: string, env: NodeJS.ProcessEnv): string[] | undefined {
  const argv = splitWords(line);
  const command = argv?.[0];
  if (argv === undefined || command === undefined) return undefined;
  if (command.includes("=") || SHELL_WORDS.has(command)) return undefined;
  if (command.includes("/")) return path.isAbsolute(command) && findOnPath(path.basename(command), { PATH: path.dirname(command) }) ? argv : undefined;
  return findOnPath(command, env) ? argv : undefined;
}

// Blanks only: a newline separates commands.
const WORD = /[ \t]*(?:([A-Za-z0-9_@%+=:,./-]+)|'([^'\n]*)'|"([^"$`\\\n]*)")(?=[ \t]|$)/y;

function splitWords(line: string): string[] | undefined {
  const words: string[] = [];
  WORD.lastIndex = 0;
  let at = 0;
  while (at < line.length) {
    if (/^[ \t]*$/.test(line.slice(at))) break;
    WORD.lastIndex = at;
    const m = WORD.exec(line);
    if (!m) return undefined;
    const word = m[1] ?? m[2] ?? m[3] ?? "";
    // A word that came from plain characters must really be plain (the regex guarantees it);
    // quoted words are taken literally, as the shell would.
    if (m[1] !== undefined && !PLAIN.test(word)) return undefined;
    words.push(word);
    at = WORD.lastIndex;
  }
  return words.length > 0 ? words : undefined;
}
