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

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function unitMs(unit: string | undefined): number {
  const u = (unit ?? "s").toLowerCase();
  if (u.startsWith("ms") || u.startsWith("milli")) return UNIT_MS.ms!;
  if (u.startsWith("h")) return UNIT_MS.h!;
  if (u.startsWith("m")) return UNIT_MS.m!;
  return UNIT_MS.s!;
}

/** "3:05 PM" / "15:05" as the next such wall-clock time after `now` (the tools print local time). */
function nextClockTime(hours: number, minutes: number, meridiem: string | undefined, now: number): number | undefined {
  let h = hours;
  const m = meridiem?.toLowerCase();
  if (m !== undefined) {
    if (h < 1 || h > 12) return undefined;
    h = (h % 12) + (m === "pm" ? 12 : 0);
  }
  if (h > 23 || minutes > 59) return undefined;
  const at = new Date(now);
  at.setHours(h, minutes, 0, 0);
  if (at.getTime() <= now) at.setDate(at.getDate() + 1);
  return at.getTime();
}

/**
 * When a quota report says the limit resets, as epoch ms; undefined when it does not say.
 * Forms seen in the tools' output: Claude's `usage limit reached|1795000000` (epoch seconds),
 * an HTTP `Retry-After: 7` header echoed, Google's "Please retry in 43.6s", "try again in 5
 * minutes", codex's "try again at 3:05 PM", "resets at 14:05" and ISO timestamps.
 */
export function quotaResetAt(text: string, now: number): number | undefined {
  const epoch = /usage limit reached\|(\d{9,12})\b/i.exec(text);
  if (epoch) return Number(epoch[1]) * 1000;
  const iso = /\b(?:resets?|retry|try again)\b[^\n]{0,20}?\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))/i.exec(text);
  if (iso) {
    const at = Date.parse(iso[1]!);
    if (!Number.isNaN(at)) return at;
  }
  const header = /\bretry[- ]after\b["']?\s*[:=]\s*["']?(\d+(?:\.\d+)?)\b/i.exec(text);
  if (header) return now + Math.round(Number(header[1]) * 1000);
  const relative = /\b(?:retry|try again|resets?|reset)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*(?:ms|milliseconds?|h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)?\s*)+)/i.exec(text);
  if (relative) {
    // "2h52m39s", "43.6s", "5 minutes": the parts add up; a bare number is seconds.
    let ms = 0;
    for (const part of relative[1]!.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/gi)) ms += Number(part[1]) * unitMs(part[2] || undefined);
    return now + Math.round(ms);
  }
  const clock = /\b(?:resets?|reset|try again|retry)\s+(?:at\s+)?(\d{1,2}):(\d{2})\s*(am|pm)?\b/i.exec(text);
  if (clock) return nextClockTime(Number(clock[1]), Number(clock[2]), clock[3], now);
  return undefined;
}

/**
 * Credentials missing or rejected, as the tools word it: Claude's `authentication_failed` /
 * "Invalid API key" / "Not logged in", an HTTP 401 or 403 next to a word that says so, Gemini's
 * "Please set an Auth method", Google's "API key not valid".
 */
const AUTH = [
  /\bauthentication[_ ](?:error|failed)\b/i,
  /\binvalid[ _-](?:x-)?api[ _-]?key\b/i,
  /\bNot logged in\b/,
  /\b(?:status|http|code|error)\W{0,4}40[13]\b|\b40[13]\W{0,3}(?:Unauthorized|Forbidden)\b/i,
  /\bPlease set an Auth method\b|\bInvalid auth method\b/i,
  /\bAPI key not valid\b|\bmissing (?:an? )?API key\b|\bno API key\b/i,
  /\bOAuth token (?:has )?expired\b/i,
  // litellm's exception class, as aider prints it.
  /\bAuthenticationError\b/,
];

export function looksLikeAuth(text: string): boolean {
  return AUTH.some((pattern) => pattern.test(text));
}

/**
 * The API could not be reached at all: the network, DNS, a proxy or a wrong base URL. The
 * resolver's words are those of getaddrinfo as Rust's std prints them (codex 0.171 on its
 * default WebSocket transport: "failed to lookup address information: Name does not resolve" on
 * musl, "Name or service not known" / "Temporary failure in name resolution" on glibc).
 */
const NETWORK = /\b(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ECONNRESET|ETIMEDOUT)\b|\bconnection[ _](?:refused|failed)\b|\bwaiting for network\b|\bfetch failed\b|\bnetwork is unreachable\b|\berror sending request\b|\bfailed to lookup address information\b|\bName does not resolve\b|\bName or service not known\b|\bTemporary failure in name resolution\b|\bdns error\b/i;

export function looksLikeNetwork(text: string): boolean {
  return NETWORK.test(text);
}
