import { normalize } from "../../src/workstream/normalize.js";
import { parseSource } from "../../src/workstream/parse-source.js";
import type { RawStep, RawWorkstream } from "../../src/workstream/raw-types.js";
import { schemaDiagnostics } from "../../src/workstream/schema.js";
import type { Workstream } from "../../src/workstream/model.js";

export type RawInput = Partial<Omit<RawWorkstream, "steps">> & { steps: Array<Partial<RawStep> & { id: string }> };

/**
 * The one way tests make a Workstream: a document as a user writes it, through the schema and the
 * real normalizer, so every default and every new field is what `ws run` would see. Steps default
 * to shell steps running `true`. Graph-level mistakes (cycles, unknown ids) pass: the graph checks
 * are what many tests exercise.
 */
export function workstreamOf(doc: RawInput, env: NodeJS.ProcessEnv = {}): Workstream {
  const id = doc.id ?? "ws-test";
  const raw = {
    ...doc,
    id,
    defaults: { tool: "shell", ...doc.defaults },
    steps: doc.steps.map((s) => ((s.tool ?? doc.defaults?.tool ?? "shell") === "shell" && s.run === undefined ? { run: "true", ...s } : s)),
  };
  const file = `/project/workstreams/${id}.json`;
  const parsed = parseSource(JSON.stringify(raw, null, 2), { path: `workstreams/${id}.json`, format: "json" });
  if (!parsed.ok) throw new Error(`test workstream does not parse: ${parsed.diagnostics.map((d) => d.message).join("; ")}`);
  const problems = schemaDiagnostics(parsed.value, parsed.source, file);
  if (problems.length > 0) throw new Error(`test workstream breaks the schema: ${problems.map((d) => `${d.message} (${d.fix ?? ""})`).join("; ")}`);
  const result = normalize(parsed.value as RawWorkstream, { file, hash: "0", env, source: parsed.source });
  if (result.diagnostics.some((d) => d.severity === "error")) throw new Error(`test workstream does not normalize: ${result.diagnostics.map((d) => d.message).join("; ")}`);
  return result.workstream;
}
