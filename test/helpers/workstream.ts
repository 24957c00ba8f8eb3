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
 * are what many tests exercise; `schema: false` also lets through what only the schema rejects
 * (a repeated dependency, no steps), for the graph code's own defences.
 */
export function workstreamOf(doc: RawInput, options: { env?: NodeJS.ProcessEnv; schema?: boolean } = {}): Workstream {
  const env = options.env ?? {};
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
  if (problems.length > 0 && options.schema !== false) throw new Error(`test workstream breaks the schema: ${problems.map((d) => `${d.message} (${d.fix ?? ""})`).join("; ")}`);
  const result = normalize(parsed.value as RawWorkstream, { file, hash: "0", env, source: parsed.source });
  if (result.diagnostics.some((d) => d.severity === "error")) throw new Error(`test workstream does not normalize: ${result.diagnostics.map((d) => d.message).join("; ")}`);
  return result.workstream;
}

/** A step written with the model's field names, as the older test factories take them. */
export interface StepFields {
  id: string;
  description?: string;
  tool?: string;
  tasks?: string[];
  run?: string;
  fileScope?: string[];
  readOnly?: string[];
  dependsOn?: string[];
  timeout?: number;
  retries?: number;
  acceptanceTests?: Array<{ run: string; timeout?: number }>;
  /** The condition as written; its value comes from interpolating it (with an empty environment). */
  when?: { source: string; value?: boolean };
  env?: Record<string, string>;
  model?: string;
  runIf?: "success" | "failure" | "always" | "success_or_skipped";
  compensate?: { tool: string; run?: string | undefined; tasks: string[]; timeout: number } | undefined;
  approval?: { prompt?: string; timeout?: number; environment?: string } | undefined;
}

/** The document form of a step given with model field names. */
export function rawStep(s: StepFields): Partial<RawStep> & { id: string } {
  const raw: Record<string, unknown> = {
    id: s.id,
    description: s.description,
    tool: s.tool,
    tasks: s.tasks,
    run: s.run,
    file_scope: s.fileScope,
    read_only: s.readOnly,
    depends_on: s.dependsOn,
    timeout: s.timeout,
    retries: s.retries,
    acceptance_tests: s.acceptanceTests,
    when: s.when?.source,
    env: s.env,
    model: s.model,
    run_if: s.runIf,
    approval: s.approval && { prompt: s.approval.prompt, timeout: s.approval.timeout, environment: s.approval.environment },
    compensate: s.compensate && { tool: s.compensate.tool, run: s.compensate.run, tasks: s.compensate.tasks.length > 0 ? s.compensate.tasks : undefined, timeout: s.compensate.timeout },
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  return raw as Partial<RawStep> & { id: string };
}
