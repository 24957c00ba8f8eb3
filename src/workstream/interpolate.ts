/**
 * `${env.NAME}`, `${env.NAME:-default}` and `${env.NAME == 'value'}` / `!=` in string values of
 * `execution` and `step.when`; in `when` also `${steps.<id>.outputs.<key>}` (plain or compared),
 * which is known only once that step has run: without `outputs` such an expression is kept as
 * written, to be resolved at run time. Parsed with fixed patterns and never evaluated, so an
 * expression like `${env.X; process.exit()}` is simply an error.
 */

/** A passed step's output by key; undefined when it did not write that key. */
export type OutputLookup = (step: string, key: string) => string | undefined;

/** `${steps.<id>.outputs.<key>}`: the id as in the schema, the key as a variable name (plus "-"). */
export const OUTPUT_REF = /\$\{\s*steps\.([A-Za-z0-9_][A-Za-z0-9._-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}/g;
/** In a condition a reference may also be compared: `${steps.a.outputs.env == 'prod'}`. */
const CONDITION_REF = /\$\{\s*steps\.([A-Za-z0-9_][A-Za-z0-9._-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)\s*(?:(?:==|!=)\s*(?:'[^']*'|"[^"]*")\s*)?\}/g;

/** Every `${steps.<id>.outputs.<key>}` in a text (in a condition, also compared), with where it is. */
export function outputRefs(text: string, condition = false): Array<{ step: string; key: string; offset: number; length: number }> {
  return [...text.matchAll(condition ? CONDITION_REF : OUTPUT_REF)].map((m) => ({ step: m[1] ?? "", key: m[2] ?? "", offset: m.index, length: m[0].length }));
}

const STEP_REF = "steps\\.([A-Za-z0-9_][A-Za-z0-9._-]*)\\.outputs\\.([A-Za-z_][A-Za-z0-9_-]*)";
const STEP_PLAIN = new RegExp(`^\\s*${STEP_REF}\\s*$`);
const STEP_COMPARE = new RegExp(`^\\s*${STEP_REF}\\s*(==|!=)\\s*(?:'([^']*)'|"([^"]*)")\\s*$`);

type Interpolated =
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
interface InterpolateOptions {
  condition?: boolean;
  /** Step outputs for `${steps.<id>.outputs.<key>}`; without, such a reference is kept as written. */
  outputs?: OutputLookup | undefined;
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
    const resolved = resolveStepRef(expr, options.outputs) ?? resolve(expr, env, options);
    if (!resolved.ok) return { ...resolved, offset: start, length: end + 1 - start };
    out += resolved.value;
    i = end + 1;
  }
}

/** A `steps.<id>.outputs.<key>` expression: its value, itself (not known yet), or undefined when it is not one. */
function resolveStepRef(expr: string, outputs: OutputLookup | undefined): { ok: true; value: string } | undefined {
  const plain = STEP_PLAIN.exec(expr);
  const compare = plain ? undefined : STEP_COMPARE.exec(expr);
  const m = plain ?? compare;
  if (!m) return undefined;
  if (!outputs) return { ok: true, value: `\${${expr}}` };
  // An output the step did not write reads as "", like an unset variable in a comparison.
  const actual = outputs(m[1] ?? "", m[2] ?? "") ?? "";
  if (plain) return { ok: true, value: actual };
  return { ok: true, value: String((actual === (m[4] ?? m[5] ?? "")) === (m[3] === "==")) };
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
