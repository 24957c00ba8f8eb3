/**
 * Which notes of a run are information, not warnings (issue 33: "linked .venv" said as a warning
 * on every run taught users to skip the header). Notes travel as plain strings from where they are
 * made (lanes, worktree settings) to the run's start; the ones made by `infoNote`, and the
 * settings' own "worktree: copied/linked …" and "worktree.setup … ran" lines, are said as info.
 */
const INFO = new Set<string>();

export function infoNote(text: string): string {
  INFO.add(text);
  return text;
}

export function isInfoNote(text: string): boolean {
  return INFO.has(text) || /^worktree: (?:copied|linked) /.test(text) || /^worktree\.setup ".*" ran in /.test(text);
}

/** The level a warning event carries for a note: info, or nothing (a warning). */
export function noteLevel(text: string): { level?: "info" } {
  return isInfoNote(text) ? { level: "info" } : {};
}
