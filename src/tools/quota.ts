/**
 * Recognises a tool's report of a rate limit or an exhausted quota. Such an attempt is not the
 * step's fault: the step is re-queued without spending a retry and the tool's breaker pauses it.
 *
 * Words inside identifiers and paths are not reports: `quota.py`, `src/rate_limit/`,
 * `checkQuota()` must not match, or an agent working on a rate limiter would retry forever.
 */

// A word standing alone: not glued to an identifier, a path, or a file extension.
const before = String.raw`(?<![\w/.\\-])`;
const after = String.raw`(?![\w/\\-]|\.\w)`;

const PATTERNS: RegExp[] = [
  new RegExp(`${before}rate[ _-]?limit(?:s|ed|ing|_error|_exceeded)?${after}`, "i"),
  new RegExp(`${before}quotas?${after}`, "i"),
  new RegExp(`${before}usage[ _-]limits?${after}`, "i"),
  // Error class and code names as SDKs print them (litellm, google, openai).
  /\b(?:RateLimit|Quota)(?:Error|Exceeded|Failure)\b|\bTerminalQuotaError\b|\binsufficient_quota\b/,
  /\bRESOURCE_EXHAUSTED\b/,
  /\btoo many requests\b/i,
];

// A bare 429 is only an HTTP status right next to a word that says so (not "line 429").
const STATUS_429 = /\b(?:status|http(?:\/[\d.]+)?|code|error)\W{0,4}429(?![\w]|\.\d)|(?<![\w.])429\W{0,3}(?:too many|resource[ _]exhausted)/i;

/** 429 / "rate limit" / "quota" / "usage limit" in a tool's output (any line of `text`). */
export function looksLikeQuota(text: string): boolean {
  for (const line of text.split(/\r?\n/)) {
    if (PATTERNS.some((pattern) => pattern.test(line))) return true;
    if (STATUS_429.test(line)) return true;
  }
  return false;
}
