import type { Step } from "../workstream/model.js";
import { interpolate, isTruthy, OUTPUT_REF, outputRefs, type OutputLookup } from "../workstream/interpolate.js";

/**
 * Step outputs: what an attempt wrote to the file named by `WS_OUTPUT` (`key=value` lines, or
 * GitHub's `$GITHUB_OUTPUT` heredoc form `key<<DELIM` … `DELIM`), and the `${steps.<id>.outputs.<key>}`
 * references of a dependent, resolved just before it starts.
 */

export type Outputs = Record<string, string>;

/** Bytes of one step's outputs kept: they go into events.jsonl and state.json, which must stay small. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses an output file; lines that fit neither form are reported, not fatal (the step passed). */
export function parseOutputs(text: string): { outputs: Outputs; problems: string[] } {
  const outputs: Outputs = Object.create(null) as Outputs;
  const problems: string[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").replace(/\r$/, "");
    if (line.trim() === "") continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const eq = line.indexOf("=");
    if (heredoc && (eq === -1 || eq > line.indexOf("<<"))) {
      const key = (heredoc[1] ?? "").trim();
      const delimiter = heredoc[2] ?? "";
      const end = lines.findIndex((l, k) => k > i && l.replace(/\r$/, "") === delimiter);
      if (end === -1) {
        problems.push(`line ${i + 1}: "${key}<<${delimiter}" is never closed by a line "${delimiter}"`);
        break;
      }
      if (KEY.test(key)) outputs[key] = lines.slice(i + 1, end).map((l) => l.replace(/\r$/, "")).join("\n");
      else problems.push(`line ${i + 1}: "${key}" is not an output name (letters, digits, "_", "-")`);
      i = end;
      continue;
    }
    const key = eq === -1 ? "" : line.slice(0, eq).trim();
    if (eq === -1 || !KEY.test(key)) {
      problems.push(`line ${i + 1}: expected key=value or key<<DELIMITER, found ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    outputs[key] = line.slice(eq + 1);
  }
  return { outputs, problems };
}

/** Drops values past MAX_OUTPUT_BYTES (in key order of writing) and says which. */
export function capOutputs(outputs: Outputs): { outputs: Outputs; dropped: string[] } {
  let total = 0;
  const kept: Outputs = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(outputs)) {
    total += Buffer.byteLength(key) + Buffer.byteLength(value);
    if (total > MAX_OUTPUT_BYTES) dropped.push(key);
    else kept[key] = value;
  }
  return { outputs: kept, dropped };
}

function envName(step: string, key: string, taken: Map<string, string>): string {
  const ref = `${step}\0${key}`;
  const existing = taken.get(ref);
  if (existing) return existing;
  const base = `WS_OUT_${step}_${key}`.replace(/[^A-Za-z0-9_]/g, "_").toUpperCase();
  let name = base;
  for (let n = 2; [...taken.values()].includes(name); n++) name = `${base}_${n}`;
  taken.set(ref, name);
  return name;
}

/** Whether a step reads other steps' outputs: its `${steps.…}` references, or a `when` that waits for them. */
export function usesOutputs(step: Step): boolean {
  const hasRefs = (text: string | undefined) => text !== undefined && outputRefs(text).length > 0;
  return hasRefs(step.run) || step.tasks.some(hasRefs) || Object.values(step.env).some(hasRefs) || step.acceptanceTests.some((t) => hasRefs(t.run)) || step.when?.deferred !== undefined;
}

/**
 * The step as it runs: references in `tasks`, `env` and `when` replaced by the values; in `run`
 * and `acceptance_tests` (shell command lines) by `${WS_OUT_…}` variables set in the step's env,
 * so a value is data to the shell, never code (quote it as you would any variable).
 */
export function resolveStepOutputs(step: Step, lookup: OutputLookup): Step {
  const taken = new Map<string, string>();
  const vars: Record<string, string> = {};
  const literal = (text: string) => text.replace(OUTPUT_REF, (_, id: string, key: string) => lookup(id, key) ?? "");
  const viaEnv = (text: string) =>
    text.replace(OUTPUT_REF, (_, id: string, key: string) => {
      const name = envName(id, key, taken);
      vars[name] = lookup(id, key) ?? "";
      return `\${${name}}`;
    });
  if (!usesOutputs(step)) return step;
  const run = step.run === undefined ? undefined : viaEnv(step.run);
  const acceptanceTests = step.acceptanceTests.map((t) => ({ ...t, run: viaEnv(t.run) }));
  let when = step.when;
  if (when?.deferred !== undefined) {
    const result = interpolate(when.deferred, {}, { condition: true, outputs: lookup });
    when = { source: when.source, value: result.ok ? isTruthy(result.value) : true };
  }
  return {
    ...step,
    run,
    acceptanceTests,
    tasks: step.tasks.map(literal),
    env: { ...Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, literal(v)])), ...vars },
    when,
  };
}
