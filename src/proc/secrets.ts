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

function isSecretName(name: string): boolean {
  return KNOWN_SECRETS.includes(name) || SECRET_SHAPE.test(name.toUpperCase());
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
export function withheldSecrets(env: NodeJS.ProcessEnv, allowed: readonly string[], given: Iterable<string> = []): string[] {
  const explicit = new Set(given);
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && isSecretName(name) && !explicit.has(name) && !allowed.some((p) => matchesName(p, name)))
    .sort();
}

/** A value this short is not worth hiding, and replacing it would mangle ordinary text ("1", "true"). */
const MIN_SECRET_LENGTH = 8;

/**
 * The values to keep out of logs: those of every secret-looking variable of ws's environment and
 * of the steps' `env`. A list, not rest parameters: one env per step spread into arguments
 * overflowed the stack past ~120 000 steps (exit 70).
 */
export function secretValues(envs: Iterable<NodeJS.ProcessEnv>): string[] {
  const values = new Set<string>();
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && value.length >= MIN_SECRET_LENGTH && isSecretName(name)) values.add(value);
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

/**
 * The same JSON-able value with every secret replaced in its strings; the very object when none
 * occurs (the common case costs one stringify).
 */
export function redactDeep<T>(value: T, values: readonly string[]): T {
  if (values.length === 0) return value;
  const text = JSON.stringify(value);
  // A value with quotes or backslashes appears escaped inside JSON text.
  const escaped = values.map((v) => JSON.stringify(v).slice(1, -1));
  if (!escaped.some((v) => text.includes(v))) return value;
  return JSON.parse(redact(text, escaped)) as T;
}
