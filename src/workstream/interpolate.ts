/**
 * `${env.NAME}`, `${env.NAME:-default}` and `${env.NAME == 'value'}` / `!=` in string values of
 * `execution` and `step.when`. Parsed with fixed patterns and never evaluated, so an expression
 * like `${env.X; process.exit()}` is simply an error.
 */

export type Interpolated =
  | { ok: true; value: string }
  | {
      ok: false;
      message: string;
      fix?: string | undefined;
      /** Where the bad expression is, within the template. */
      offset: number;
      length: number;
    };

const NAME = "([A-Za-z_][A-Za-z0-9_]*)";
const PLAIN = new RegExp(`^\\s*env\\.${NAME}\\s*$`);
const WITH_DEFAULT = new RegExp(`^\\s*env\\.${NAME}:-(.*)$`, "s");
const COMPARE = new RegExp(`^\\s*env\\.${NAME}\\s*(==|!=)\\s*(?:'([^']*)'|"([^"]*)")\\s*$`);

const FORMS = "${env.NAME}, ${env.NAME:-default}, ${env.NAME == 'value'} or ${env.NAME != 'value'}";

export function hasInterpolation(value: string): boolean {
  return value.includes("${");
}

/**
 * In a condition (`when`), an unset `${env.X}` is "" (so false), as in GitHub's `if:`; elsewhere it
 * is an error, because an empty `max_workers` or command is never what was meant. A shell-style
 * `$X` in a condition is an error: it would be a non-empty string, so always true.
 */
export interface InterpolateOptions {
  condition?: boolean;
}

const BARE = /\$([A-Za-z_][A-Za-z0-9_]*)/;

export function interpolate(template: string, env: NodeJS.ProcessEnv, options: InterpolateOptions = {}): Interpolated {
  if (options.condition) {
    // Only outside `${...}`: inside one, `$` may be part of a compared value.
    const bare = BARE.exec(template.replace(/\$\{[^}]*\}?/g, (m) => " ".repeat(m.length)));
    if (bare) {
      const name = bare[1] ?? "";
      return {
        ok: false,
        message: `"$${name}" is not a variable here: a condition reads the environment only through \${env.${name}}`,
        fix: `write \${env.${name}} (or \${env.${name} == 'value'})`,
        offset: bare.index,
        length: bare[0].length,
      };
    }
  }
  let out = "";
  let i = 0;
  for (;;) {
    const start = template.indexOf("${", i);
    if (start === -1) return { ok: true, value: out + template.slice(i) };
    out += template.slice(i, start);
    const end = template.indexOf("}", start + 2);
    if (end === -1) {
      return { ok: false, message: `unclosed "\${" in ${JSON.stringify(template)}`, fix: 'end the expression with "}"', offset: start, length: template.length - start };
    }
    const expr = template.slice(start + 2, end);
    const resolved = resolve(expr, env, options);
    if (!resolved.ok) return { ...resolved, offset: start, length: end + 1 - start };
    out += resolved.value;
    i = end + 1;
  }
}

function resolve(expr: string, env: NodeJS.ProcessEnv, options: InterpolateOptions): { ok: true; value: string } | { ok: false; message: string; fix?: string } {
  let m = PLAIN.exec(expr);
  if (m) {
    const name = m[1] ?? "";
    const value = env[name];
    if (value === undefined) {
      if (options.condition) return { ok: true, value: "" };
      return { ok: false, message: `environment variable ${name} is not set`, fix: `set ${name}, or give a default: \${env.${name}:-value}` };
    }
    return { ok: true, value };
  }
  m = WITH_DEFAULT.exec(expr);
  if (m) return { ok: true, value: env[m[1] ?? ""] ?? m[2] ?? "" };
  m = COMPARE.exec(expr);
  if (m) {
    // An unset variable compares as "": `${env.DEPLOY == 'true'}` is simply false without it.
    const actual = env[m[1] ?? ""] ?? "";
    const expected = m[3] ?? m[4] ?? "";
    return { ok: true, value: String((actual === expected) === (m[2] === "==")) };
  }
  return { ok: false, message: `unsupported expression "\${${expr}}"`, fix: `use ${FORMS}` };
}

/** A `when` value is false for "", "false", "0", "no" and "off" (any case), true otherwise. */
export function isTruthy(value: string): boolean {
  return !["", "false", "0", "no", "off"].includes(value.trim().toLowerCase());
}
