/** Quote argv for display (log headers), so a reader can paste it into a POSIX shell. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map(shellWord).join(" ");
}

/** One shell word: as it is when it needs no quoting, else single-quoted. */
function shellWord(arg: string): string {
  if (arg !== "" && /^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return singleQuoted(arg);
}

/** Always single-quoted: generated scripts quote every value alike, so a diff shows values, not quoting. */
export function singleQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
