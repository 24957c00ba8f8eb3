/**
 * Attempts as a person counts them: the tries that reached an outcome, with the interrupted ones
 * (Ctrl-C, an abort, a lost race, ws killed) said apart. `attempts` counts both, since both
 * numbered a log; shown as one number, "failed after 3 attempts" with `retries: 1` reads as if
 * the interrupted attempt had been a failed try.
 */
export function attemptsCell(attempts: number, interrupted = 0): string {
  const tries = attempts - interrupted;
  if (interrupted <= 0) return attempts > 0 ? String(attempts) : "";
  return tries > 0 ? `${tries} +${interrupted} interrupted` : `${interrupted} interrupted`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * "2 attempts", "1 attempt and 1 interrupted", "1 interrupted attempt": what follows "after".
 * `earlierTries` of the tries were made by the runs a resume continued: this run's are counted,
 * the rest said apart ("1 attempt (3 counting earlier runs)"), since a step without retries that
 * failed in two runs and passed in a third did not pass "after 3 attempts".
 */
export function attemptsPhrase(attempts: number, interrupted = 0, earlierTries = 0): string {
  const tries = attempts - interrupted;
  if (earlierTries > 0) {
    const now = tries - earlierTries;
    const cut = interrupted > 0 ? ` and ${interrupted} interrupted` : "";
    return now > 0 ? `${plural(now, "attempt")}${cut} (${tries} counting earlier runs)` : `${plural(tries, "attempt")}${cut} in earlier runs`;
  }
  if (interrupted <= 0) return plural(attempts, "attempt");
  if (tries <= 0) return plural(interrupted, "interrupted attempt");
  return `${plural(tries, "attempt")} and ${interrupted} interrupted`;
}
