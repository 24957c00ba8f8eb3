import picomatch from "picomatch";

// Stand-in for matchesScope() of src/graph/scope-overlap.ts, which was not written yet when this
// module was: same contract (dot files count, "./" prefixes mean nothing).
const matchers = new Map<string, (file: string) => boolean>();

function matcherFor(pattern: string): (file: string) => boolean {
  let matcher = matchers.get(pattern);
  if (matcher === undefined) {
    matcher = picomatch(pattern.replace(/^(\.\/)+/, ""), { dot: true });
    matchers.set(pattern, matcher);
  }
  return matcher;
}

/** True when `file` (relative, `/`-separated) matches one of the `file_scope` patterns. */
export function matchesScope(file: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => matcherFor(pattern)(file));
}
