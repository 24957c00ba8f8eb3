/**
 * Secrets go only where they are needed (GitHub Actions' rule): an agent step gets the key
 * variables its own tool declares, shell steps and acceptance tests get none of the known key
 * variables unless the workstream passes them (the step's `env`, or an `inherit_env` list). A
 * test written by an agent must not be able to read, print or send every provider key of the user.
 */

/** Key variables of the agent CLIs, providers and forges, known by name. */
const KNOWN_SECRETS: readonly string[] = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "OPENAI_API_KEY",
  "CODEX_API_KEY",
  "GEMINI_API_KEY",
  "GOOGLE_API_KEY",
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "GITLAB_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AZURE_OPENAI_API_KEY",
  "HF_TOKEN",
  "NPM_TOKEN",
];

/** Any other name that says it holds a secret. */
const SECRET_SHAPE = /_(API_KEY|TOKEN|SECRET|SECRET_KEY|PASSWORD)$/;

/** Names seen, and whether each is a secret's: every attempt asks again about the same few dozen (bench/NOTES.md, issue 32). */
const secretNames = new Map<string, boolean>();

function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = KNOWN_SECRETS.includes(name) || SECRET_SHAPE.test(name.toUpperCase());
    // Bounded: names come from environments, a few dozen each; a step's env is only ever added.
    if (secretNames.size < 10_000) secretNames.set(name, secret);
  }
  return secret;
}

/**
 * The secret-looking names of a frozen layer (the run's copies of its environment, made once):
 * every attempt asked the same ~36 names of the same object again, 0.1-0.15 ms a step in a
 * 1000-step run's profile (bench/NOTES.md, issue 32 point 4, third round). A layer that is not
 * frozen (a step's own env, a caller's object) may change between calls and is read each time.
 */
const frozenSecretNames = new WeakMap<object, readonly string[]>();

function secretNamesOf(layer: NodeJS.ProcessEnv): readonly string[] {
  const known = frozenSecretNames.get(layer);
  if (known !== undefined) return known;
  const names = Object.keys(layer).filter(isSecretName);
  if (Object.isFrozen(layer)) frozenSecretNames.set(layer, names);
  return names;
}

/** `NAME` matches itself; `PREFIX_*` / `*_SUFFIX` match by prefix / suffix (how inherit_env and adapters name groups of keys). */
function matchesName(pattern: string, name: string): boolean {
  if (pattern.endsWith("*")) return name.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return name.endsWith(pattern.slice(1));
  return pattern === name;
}

/**
 * The secret-looking variables of `env` that a process does not get: every one not matched by
 * `allowed` (the tool's key variables, inherit_env) and not set explicitly (`given`: the step's env).
 */
export function withheldSecrets(env: NodeJS.ProcessEnv | readonly NodeJS.ProcessEnv[], allowed: readonly string[], given: Iterable<string> = []): string[] {
  // Layers (the run's inherited environment, then its own) read as `{ ...a, ...b }` would be, without a copy per attempt.
  const layers: readonly NodeJS.ProcessEnv[] = Array.isArray(env) ? env : [env as NodeJS.ProcessEnv];
  const decided = new Set<string>();
  const withheld: string[] = [];
  let explicit: Set<string> | undefined;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    // The same object twice (the run's env is its inherited one when none was given): the later decided every name.
    if (layers.indexOf(layer, i + 1) !== -1) continue;
    for (const name of secretNamesOf(layer)) {
      if (decided.has(name)) continue;
      decided.add(name); // the last layer holding the name decides, as in a spread
      explicit ??= new Set(given);
      if (layer[name] !== undefined && !explicit.has(name) && !allowed.some((p) => matchesName(p, name))) withheld.push(name);
    }
  }
  return withheld.sort();
}

/**
 * Masking a value anywhere it occurs is safe from this length on; a shorter one ("dev", "hunter2")
 * would also mask the same letters inside ordinary words and ids ("tests_failed"), so it is masked
 * only where it stands as a whole word. One or two characters ("1", "on") are never masked: they
 * occur as whole words everywhere and hide nothing.
 */
const SUBSTRING_MIN = 8;
const WORD_MIN = 3;

/**
 * The values to keep out of logs: those of every secret-looking variable of ws's environment and
 * of the steps' `env`. A list, not rest parameters: one env per step spread into arguments
 * overflowed the stack past ~120 000 steps (exit 70).
 */
export function secretValues(envs: Iterable<NodeJS.ProcessEnv>): string[] {
  const values = new Set<string>();
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && value.length >= WORD_MIN && isSecretName(name)) values.add(value);
    }
  }
  // Longest first: a value that contains another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

const REDACTED = "***";

function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/** Short values as whole words: not next to a letter, digit or "_" on either side. */
function wordPattern(values: readonly string[]): RegExp {
  const alternatives = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  return new RegExp(`(?<![A-Za-z0-9_])(?:${alternatives})(?![A-Za-z0-9_])`, "g");
}

/**
 * The fields of events that carry text a step or a person wrote: output tails, details, messages,
 * commands, prompts, reasons, outputs. Ids, types, paths and reasons' kinds are ws's own words and
 * stay as they are: a password "test" must not turn a `test-end` event into `***-end`.
 */
const TEXT_FIELDS = new Set(["tail", "detail", "message", "command", "prompt", "reason", "outputs"]);

/** `value` with `pattern` masked in its strings below a text field (`inText`), never in keys. */
function maskText(value: unknown, pattern: RegExp, inText: boolean): unknown {
  if (typeof value === "string") return inText ? value.replace(pattern, REDACTED) : value;
  if (Array.isArray(value)) return value.map((v) => maskText(v, pattern, inText));
  if (value !== null && typeof value === "object") {
    // `reason` is text when a person gave it (a rejection), an EndReason of ws's own otherwise.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskText(v, pattern, inText || (TEXT_FIELDS.has(k) && (k !== "reason" || typeof v === "string")))]));
  }
  return value;
}

/**
 * The same JSON-able value with every secret replaced in its strings; the very object when none
 * occurs (the common case costs one stringify). Long values are replaced wherever they occur;
 * short ones (3 to 7 characters) only as whole words of the text fields (TEXT_FIELDS), so a
 * password "true" cannot turn a JSON `true` into `***` nor an event's type into something else.
 */
export function redactDeep<T>(value: T, values: readonly string[]): T {
  if (values.length === 0) return value;
  let text = JSON.stringify(value);
  let out: T = value;
  const long = values.filter((v) => v.length >= SUBSTRING_MIN);
  // A value with quotes or backslashes appears escaped inside JSON text.
  const escaped = long.map((v) => JSON.stringify(v).slice(1, -1));
  if (escaped.some((v) => text.includes(v))) {
    text = redact(text, escaped);
    out = JSON.parse(text) as T;
  }
  const short = values.filter((v) => v.length < SUBSTRING_MIN);
  if (short.length === 0) return out;
  // A cheap look at the text first (as substrings: in JSON text "\nabc" has a letter before "abc"
  // that the string has not): almost every event holds none of them.
  if (!short.some((v) => text.includes(JSON.stringify(v).slice(1, -1)))) return out;
  return maskText(out, wordPattern(short), false) as T;
}
