import os from "node:os";
import path from "node:path";
import type { Diagnostic, DocPath } from "../diagnostics.js";
import { DEFAULTS, type Budget, type Execution, type Step, type Workstream } from "./model.js";
import { hasInterpolation, interpolate, isTruthy } from "./interpolate.js";
import { locateNearest, type PositionedSource } from "./parse-source.js";
import type { RawBudget, RawStep, RawWorkstream } from "./raw-types.js";
import { issueToDiagnostic, schemaIssues } from "./schema.js";

/**
 * Schema-valid file → the camelCase model, with defaults filled in and `${env...}` resolved.
 * Interpolation problems become diagnostics (and the field falls back to its default), so one
 * run still reports every other error of the file.
 */

interface NormalizeOptions {
  /** Absolute path of the file. */
  file: string;
  hash: string;
  env: NodeJS.ProcessEnv;
  source: PositionedSource;
}

export function normalize(doc: RawWorkstream, opts: NormalizeOptions): { workstream: Workstream; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const execution = resolveExecution(doc, opts, diagnostics);
  const defaults = {
    tool: doc.defaults?.tool ?? DEFAULTS.tool,
    model: doc.defaults?.model,
    retries: doc.defaults?.retries ?? DEFAULTS.retries,
    retryDelay: doc.defaults?.retry_delay ?? DEFAULTS.retryDelay,
    retryBackoff: doc.defaults?.retry_backoff ?? DEFAULTS.retryBackoff,
    retryDelayMax: doc.defaults?.retry_delay_max,
  };
  const defaultTimeout = doc.defaults?.timeout ?? execution.timeoutPerStep;
  const inheritAll = [...new Set(doc.inherit_env ?? [])];
  // One object per step and only the arrays it needs: at 50 000 steps every allocation here is
  // copied by the young-generation GC, which was a fifth of `ws run`'s time (bench/scale.mjs).
  const steps = doc.steps.map((raw, index): Step => {
    const tools = toolsOf(raw, defaults.tool);
    return {
      id: raw.id,
      index,
      description: raw.description ?? "",
      tool: tools[0]!,
      tools,
      budget: budgetOf(raw.budget),
      tasks: raw.tasks ?? [],
      run: raw.run,
      fileScope: raw.file_scope ?? [],
      hasFileScope: raw.file_scope !== undefined,
      mayChangeAnything: raw.file_scope === undefined && tools.some((tool) => tool !== "shell"),
      readOnly: raw.read_only ?? [],
      artifacts: raw.artifacts ?? [],
      dependsOn: raw.depends_on ?? [],
      timeout: raw.timeout ?? defaultTimeout,
      retries: raw.retries ?? defaults.retries,
      retryDelay: raw.retry_delay ?? defaults.retryDelay,
      retryBackoff: raw.retry_backoff ?? defaults.retryBackoff,
      retryDelayMax: raw.retry_delay_max ?? defaults.retryDelayMax,
      weight: raw.weight,
      acceptanceTests: raw.acceptance_tests?.map((t) => (typeof t === "string" ? { run: t, timeout: undefined } : { run: t.run, timeout: t.timeout })) ?? [],
      when: resolveWhen(raw, index, opts, diagnostics),
      env: raw.env ? resolveEnv(raw.env, index, opts, diagnostics) : {},
      inheritEnv: raw.inherit_env ? [...new Set([...inheritAll, ...raw.inherit_env])] : [...inheritAll],
      model: raw.model ?? defaults.model,
      runIf: raw.run_if ?? "success",
      compensate: compensationOf(raw, tools[0]!, raw.timeout ?? defaultTimeout),
      approval: approvalOf(raw),
    };
  });
  const workstream: Workstream = {
    id: doc.id,
    name: doc.name ?? doc.id,
    description: doc.description ?? "",
    file: opts.file,
    hash: opts.hash,
    execution,
    defaults,
    circuitBreaker: {
      failureThreshold: doc.circuit_breaker?.failure_threshold ?? DEFAULTS.failureThreshold,
      cooldown: doc.circuit_breaker?.cooldown ?? DEFAULTS.cooldown,
      maxWait: doc.circuit_breaker?.max_wait ?? DEFAULTS.maxWait,
      networkWait: doc.circuit_breaker?.network_wait ?? DEFAULTS.networkWait,
      per: doc.circuit_breaker?.per ?? "tool",
    },
    worktree: {
      // "./.env" and ".env" are one entry; a trailing "/" would stop a symlink from matching it.
      copy: (doc.worktree?.copy ?? []).map(cleanPath),
      link: (doc.worktree?.link ?? []).map(cleanPath),
      setup: doc.worktree?.setup,
    },
    ci: { setup: ciSetupOf(doc.ci?.setup) },
    budget: budgetOf(doc.budget),
    tools: Object.fromEntries(
      Object.entries(doc.tools ?? {}).map(([name, t]) => [name, { command: t.command, args: t.args ?? [], env: t.env ?? {} }]),
    ),
    steps,
    stepGroups: (doc.step_groups ?? []).map((g) => ({
      id: g.id,
      steps: g.steps,
      execute: g.execute ?? "parallel",
      maxWorkers: g.max_workers,
      succeed: g.succeed ?? "all",
      cancelRest: g.cancel_rest ?? false,
      timeout: g.timeout === 0 ? undefined : g.timeout,
    })),
  };
  return { workstream, diagnostics };
}

/** A command is one step; steps are kept as written (the export copies them into every job). */
function ciSetupOf(setup: string | Array<Record<string, unknown>> | undefined): Array<Record<string, unknown>> {
  if (setup === undefined) return [];
  return typeof setup === "string" ? [{ name: "ci.setup", run: setup }] : setup;
}

function cleanPath(entry: string): string {
  return path.posix.normalize(entry).replace(/\/+$/, "");
}

function toolsOf(raw: RawStep, fallback: string): string[] {
  if (raw.tool === undefined) return [fallback];
  return typeof raw.tool === "string" ? [raw.tool] : raw.tool;
}

function budgetOf(raw: RawBudget | undefined): Budget {
  return { maxCostUsd: raw?.max_cost_usd, maxTokens: raw?.max_tokens, maxTurns: raw?.max_turns };
}

/** An interpolation error points at the `${...}` inside the string when it can be found there. */
export function interpolationError(opts: NormalizeOptions, path: DocPath, template: string, error: { message: string; fix?: string | undefined; offset: number; length: number }): Diagnostic {
  const whole = locateNearest(opts.source, path);
  let location = whole;
  if (whole) {
    const expr = template.slice(error.offset, error.offset + error.length);
    const at = opts.source.text.slice(whole.offset, whole.offset + whole.length).indexOf(expr);
    if (at >= 0) location = opts.source.position(whole.offset + at, expr.length);
  }
  return { severity: "error", code: "interpolation", message: error.message, file: opts.source.path, location, fix: error.fix };
}

/** "3" → 3 and "true" → true, so that a resolved string can satisfy a number or boolean field. */
function coerce(value: string): string | number | boolean {
  if (/^-?[0-9]+(\.[0-9]+)?$/.test(value.trim())) return Number(value);
  if (value === "true" || value === "false") return value === "true";
  return value;
}

function resolveExecution(doc: RawWorkstream, opts: NormalizeOptions, diagnostics: Diagnostic[]): Execution {
  const raw = doc.execution ?? {};
  const resolved: Record<string, unknown> = {};
  const templates = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string" && hasInterpolation(value)) {
      templates.set(key, value);
      const result = interpolate(value, opts.env);
      if (result.ok) resolved[key] = coerce(result.value);
      else diagnostics.push(interpolationError(opts, ["execution", key], value, result));
    } else {
      resolved[key] = value;
    }
  }
  // Only interpolated values can be wrong here: the rest already passed the schema.
  for (const issue of schemaIssues("resolvedExecution", resolved, ["execution"])) {
    const key = String(issue.path[1]);
    const template = templates.get(key);
    delete resolved[key];
    const message = template === undefined ? issue.message : `${issue.message} (resolved from ${JSON.stringify(template)})`;
    diagnostics.push(issueToDiagnostic({ ...issue, path: issue.path.slice(0, 2), message }, opts.source, opts.source.path));
  }
  const parallel = typeof resolved.parallel === "boolean" ? resolved.parallel : true;
  const adaptive = resolved.max_workers === "auto" || (resolved.max_workers === undefined && resolved.adaptive_scaling === true);
  if (raw.adaptive_scaling !== undefined) diagnostics.push(adaptiveScalingNote(opts, raw.max_workers !== undefined));
  const maxWorkers = adaptive ? os.availableParallelism() : typeof resolved.max_workers === "number" ? resolved.max_workers : DEFAULTS.maxWorkers;
  return {
    parallel,
    maxWorkers: parallel ? maxWorkers : 1,
    adaptive: parallel && adaptive,
    timeoutPerStep: typeof resolved.timeout_per_step === "number" ? resolved.timeout_per_step : DEFAULTS.timeoutPerStep,
    rateLimitDelay: typeof resolved.rate_limit_delay === "number" ? resolved.rate_limit_delay : DEFAULTS.rateLimitDelay,
    onFailure: (resolved.on_failure as Execution["onFailure"] | undefined) ?? DEFAULTS.onFailure,
    compensation: (resolved.compensation as Execution["compensation"] | undefined) ?? "on_failure",
    fileConflicts: (resolved.file_conflicts as Execution["fileConflicts"] | undefined) ?? DEFAULTS.fileConflicts,
    isolation: resolved.isolation as Execution["isolation"],
    sandbox: sandboxConfig(resolved.sandbox, opts),
  };
}

/**
 * The seeds' `adaptive_scaling` still works (files written for them keep running) but says what
 * replaced it: `max_workers: "auto"`, which now follows the load average.
 */
function adaptiveScalingNote(opts: NormalizeOptions, maxWorkersSet: boolean): Diagnostic {
  return {
    severity: "warning",
    code: "deprecated",
    message: maxWorkersSet
      ? "execution.adaptive_scaling is deprecated and ignored here: max_workers is set"
      : "execution.adaptive_scaling is deprecated: true means max_workers \"auto\" (CPUs, fewer while the load average is over the cores)",
    file: opts.source.path,
    location: locateNearest(opts.source, ["execution", "adaptive_scaling"], "key"),
    fix: 'replace it with "max_workers": "auto"',
  };
}

/** A command is a shell compensation; an object with tasks goes to a tool (the step's own unless it names one). */
function compensationOf(raw: RawStep, stepTool: string, stepTimeout: number): Step["compensate"] {
  const c = raw.compensate;
  if (c === undefined) return undefined;
  if (typeof c === "string") return { tool: "shell", run: c, tasks: [], timeout: stepTimeout };
  const tool = c.tool ?? (c.run !== undefined ? "shell" : stepTool);
  return { tool, run: c.run, tasks: c.tasks ?? [], timeout: c.timeout ?? stepTimeout };
}

function approvalOf(raw: RawStep): Step["approval"] {
  const a = raw.approval;
  if (a === undefined) return undefined;
  const given = a === true ? {} : a;
  return { prompt: given.prompt ?? `Start ${raw.id}?`, timeout: given.timeout ?? 0, environment: given.environment ?? raw.id, onReject: given.on_reject ?? "hold" };
}

/** "~/" is the home folder; the schema admits nothing else that is not absolute. */
function sandboxConfig(raw: unknown, opts: NormalizeOptions): Execution["sandbox"] {
  const value = (raw ?? {}) as { network?: boolean; writable?: string[] };
  const home = opts.env.HOME ?? os.homedir();
  const writable = (value.writable ?? []).map((dir) => (dir.startsWith("~") ? path.join(home, dir.slice(1)) : path.resolve(dir)));
  return { network: value.network ?? true, writable };
}

/**
 * A step's `env` values read `${env.X}` / `${env.X:-default}` like the execution fields (an unset
 * variable without a default is an error); `${steps.<id>.outputs.<key>}` stays for the run to
 * resolve (src/engine/outputs.ts). A value without `${` is kept as it is: the same object.
 */
function resolveEnv(env: Record<string, string>, index: number, opts: NormalizeOptions, diagnostics: Diagnostic[]): Record<string, string> {
  let resolved: Record<string, string> | undefined;
  for (const [key, value] of Object.entries(env)) {
    if (!hasInterpolation(value)) continue;
    const result = interpolate(value, opts.env);
    resolved ??= { ...env };
    if (result.ok) resolved[key] = result.value;
    else diagnostics.push(interpolationError(opts, ["steps", index, "env", key], value, result));
  }
  return resolved ?? env;
}

function resolveWhen(raw: RawStep, index: number, opts: NormalizeOptions, diagnostics: Diagnostic[]): Step["when"] {
  if (raw.when === undefined) return undefined;
  if (typeof raw.when === "boolean") return { source: String(raw.when), value: raw.when };
  const result = interpolate(raw.when, opts.env, { condition: true });
  if (!result.ok) {
    diagnostics.push(interpolationError(opts, ["steps", index, "when"], raw.when, result));
    return { source: raw.when, value: true };
  }
  // Outputs of other steps are known only at run time: decided then (src/engine/outputs.ts).
  // Only step-output expressions survive interpolation without outputs (any other one was resolved or an error).
  if (hasInterpolation(result.value)) return { source: raw.when, value: true, deferred: result.value };
  return { source: raw.when, value: isTruthy(result.value) };
}
