import { stripAnsi } from "./ansi.js";

/**
 * The one line of a failed command's output that says why it failed, for the reason in `ws run`'s
 * table, `ws status` and the Markdown job summary: a CI summary that reads `exit:1: command exited
 * with code 1` sends everyone to the logs. The last meaningful line is the cause in most tools'
 * output (a traceback's exception, a compiler's last error, pytest's `1 failed, 296 passed`);
 * what package managers and make print after it only repeats the exit, so it is passed over.
 */

/** Longest cause kept: a table cell shows ~100 columns, a Markdown summary a bit more. */
const MAX_CHARS = 200;

/** Lines that only repeat that the command failed (npm, pnpm, yarn, make, GitHub's runner). */
const NOISE = [
  /^npm (?:ERR!|error)(?: (?:code|path|workspace|location|command|errno|syscall|signal|A complete log|Lifecycle script)\b|\s*$| {2,}(?:at|in) )/,
  /^npm (?:ERR!|error) +(?:sh -c|node |failed)/,
  /ELIFECYCLE\b.*\bfailed\b/,
  /^(?:\[\w+\] )?ERR_PNPM_\w+.*\bexit code \d+/,
  /^error Command failed with exit code \d+\.?$/,
  /^info Visit https:\/\/yarnpkg\.com/,
  /^make(?:\[\d+\])?: \*\*\* .*Error \d+/,
  /^(?:Error: )?Process completed with exit code \d+\.?$/,
  // node --test's closing counts, but for "# fail N"; go test's bare closing FAIL.
  /^# (?:tests|suites|pass|cancelled|skipped|todo|duration_ms) \d/,
  /^FAIL$/,
];

/** A line of only rules or box drawing (`=====`, `-----`, `───`). */
const RULE = /^[\s=\-_*~#+|.─━═│┃]+$/;
/** A test runner's count line: pytest's `1 failed, 296 passed in 0.52s`, jest's and vitest's
 *  `Tests: 1 failed, 2 passed`, unittest's `FAILED (failures=1)`, node's `# fail 1`, mocha's
 *  `2 failing`, jasmine's `5 specs, 2 failures`, ava's `2 tests failed`, uvu's (joined below). */
const COUNTS = /\b\d+ (?:failed|errors?|failing|failures?)\b|\b\d+ tests? failed\b|^FAILED \((?:failures|errors)=\d+|^# fail \d|^Total: \d+, Passed: \d+$/;
/** How far back from the end a count line is looked for: past jest's `Time:` and vitest's `Duration`. */
const COUNTS_WITHIN = 8;
/** pytest's short test summary entries; vitest's, jest's and uvu's `FAIL <test>`. */
const FAILED_TEST = /^(?:FAILED|ERROR|FAIL) \S+/;
/** What sh, dash, bash and zsh say for a missing command: `/bin/sh: 1: .venv/bin/python: not found`. */
const NOT_FOUND = /^(?:.*?: )?(?:line \d+: |\d+: )?(.+?): (?:command )?not found$/;

function clip(line: string): string {
  return line.length <= MAX_CHARS ? line : `${line.slice(0, MAX_CHARS - 1)}…`;
}

/** The line without colour codes, outer blanks, the `=====` pytest frames its count with, and
 *  runs of blanks (jest's aligned `Tests:       1 failed`), as one line of a table cell. */
function clean(line: string): string {
  return stripAnsi(line).trim().replace(/^[=\-_*]{3,}\s*/, "").replace(/\s*[=\-_*]{3,}$/, "").replace(/\s{2,}|\t/g, " ");
}

/**
 * The cause of a failed command from the last lines it printed (oldest first), or undefined when
 * it printed nothing worth showing. Exit 127 is the shell's "no such command": said as
 * `not found: <command>` whatever the shell's wording, and said even when nothing was printed.
 */
export function causeLine(tail: readonly string[], exitCode?: number | null): string | undefined {
  const lines = tail.map(clean).filter((line) => line !== "" && !RULE.test(line));
  if (exitCode === 127) {
    const missing = lines.map((line) => NOT_FOUND.exec(line)?.[1]).findLast((name) => name !== undefined);
    return clip(missing !== undefined ? `not found: ${missing}` : (lines.at(-1) ?? "not found (the shell found no such command)"));
  }
  const meaningful = joinUvuCounts(lines.filter((line) => !NOISE.some((noise) => noise.test(line))));
  // A runner's count says it best when it has one (timings and "Ran all test suites." follow it).
  const last = meaningful.slice(-COUNTS_WITHIN).findLast((line) => COUNTS.test(line)) ?? meaningful.at(-1) ?? lines.at(-1);
  if (last === undefined) return undefined;
  // pytest's count says how many; its short summary says which: both fit on the line.
  const failed = COUNTS.test(last) ? meaningful.filter((line) => FAILED_TEST.test(line)) : [];
  if (failed.length === 0) return clip(last);
  // pytest's summary is a few lines at the end: all of it is in the tail. Runners that print a
  // FAIL block with its trace per test (uvu, vitest) fill the tail with the last few: not counted.
  const more = failed.length <= 1 ? "" : failed[0]!.startsWith("FAIL ") ? " and more" : ` (+${failed.length - 1} more)`;
  return clip(`${last}; ${failed[0]}${more}`);
}

/** uvu ends with `Total: 15` and `Passed: 9` on lines of their own: one count line, as other runners print it. */
function joinUvuCounts(lines: string[]): string[] {
  const at = lines.findLastIndex((line, i) => /^Total: \d+$/.test(line) && /^Passed: \d+$/.test(lines[i + 1] ?? ""));
  return at < 0 ? lines : [...lines.slice(0, at), `${lines[at]!}, ${lines[at + 1]!}`, ...lines.slice(at + 2)];
}
