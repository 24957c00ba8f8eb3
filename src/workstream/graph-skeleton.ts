import type { RawStep, RawWorkstream } from "./raw-types.js";

/**
 * The part of a document the graph checks read (step ids, depends_on, file scopes, tools, step
 * groups), taken from a file the schema rejected, so `ws validate` shows its cycles and unknown
 * ids beside its schema errors instead of one round of fixes after another. Undefined when the
 * graph cannot be built: a step or group without a string id (what would its references mean?).
 * Every other malformed field is left out, as if unset: its schema error already says what to
 * fix. Steps keep their positions, so the graph's diagnostics point at the right lines.
 */
export function graphSkeleton(doc: Record<string, unknown>): RawWorkstream | undefined {
  if (!Array.isArray(doc.steps) || !doc.steps.every((s) => isObject(s) && typeof s.id === "string")) return undefined;
  const groups = doc.step_groups;
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => isObject(g) && typeof g.id === "string"))) return undefined;
  const steps = (doc.steps as Array<Record<string, unknown>>).map((s): RawStep => {
    const step: RawStep = { id: s.id as string, depends_on: strings(s.depends_on) ?? [] };
    const fileScope = strings(s.file_scope);
    if (fileScope) step.file_scope = fileScope;
    const readOnly = strings(s.read_only);
    if (readOnly) step.read_only = readOnly;
    const tool = typeof s.tool === "string" ? s.tool : strings(s.tool);
    if (tool !== undefined && tool.length > 0) step.tool = tool;
    return step;
  });
  const raw: RawWorkstream = { id: typeof doc.id === "string" ? doc.id : "", steps };
  const defaults = isObject(doc.defaults) && typeof doc.defaults.tool === "string" ? { tool: doc.defaults.tool } : undefined;
  if (defaults) raw.defaults = defaults;
  if (isObject(doc.tools)) raw.tools = Object.fromEntries(Object.entries(doc.tools).filter(([, t]) => isObject(t) && typeof t.command === "string").map(([name, t]) => [name, { command: (t as { command: string }).command }]));
  const conflicts = isObject(doc.execution) ? doc.execution.file_conflicts : undefined;
  if (conflicts === "error" || conflicts === "serialize") raw.execution = { file_conflicts: conflicts };
  if (Array.isArray(groups)) {
    raw.step_groups = (groups as Array<Record<string, unknown>>).map((g) => ({
      id: g.id as string,
      steps: strings(g.steps) ?? [],
      ...(g.execute === "parallel" || g.execute === "sequential" ? { execute: g.execute } : {}),
    }));
  }
  return raw;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The value when it is a list of strings. */
function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
}
