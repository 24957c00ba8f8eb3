import semver from "semver";

/** The version after `current` for a change of this kind: "major", "minor" or "patch". */
export function nextVersion(current, kind) {
  const next = semver.inc(current, kind);
  if (next === null) throw new Error(`not a version: ${current}`);
  return next;
}

/** The newest of the versions, by semver's order, not the strings'. */
export function newest(versions) {
  return [...versions].sort(semver.rcompare)[0];
}
