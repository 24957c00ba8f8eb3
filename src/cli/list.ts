import { lastRun } from "../store/query.js";
import { loadWorkstream } from "../workstream/load.js";
import { idProblem, listWorkstreamFiles, stemOf } from "../workstream/locate-file.js";
import { displayPath } from "../workstream/load.js";
import { err, out, terminalWidth, type CliContext } from "./context.js";
import { fitColumns, SPACED } from "./fit-columns.js";
import { mergeAdvice, pendingMerge, pendingMergeLine, type PendingMerge } from "./merge-hint.js";

export interface ListOptions {
  json?: boolean;
}

export interface ListEntry {
  id: string;
  name: string;
  file: string;
  steps: number | undefined;
  valid: boolean;
  errors: number;
  warnings: number;
  /** Status of the last run (`interrupted` when its process died), if there was one. */
  lastRun: string | undefined;
  /** The branch holding work of the last run that the checkout lacks, and whether `git merge` would work now. */
  merge: PendingMerge | undefined;
}

function field(doc: unknown, key: string): unknown {
  return doc !== null && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, unknown>)[key] : undefined;
}

/** One entry per workstream file: valid ones from the model, invalid ones from whatever parsed. */
export async function listWorkstreams(ctx: CliContext): Promise<ListEntry[]> {
  const entries: ListEntry[] = [];
  for (const file of listWorkstreamFiles(ctx.dir)) {
    const result = await loadWorkstream(file, { cwd: ctx.cwd, env: ctx.env });
    const id = stemOf(file);
    const doc = result.ok ? undefined : result.document;
    const rawSteps = field(doc, "steps");
    const rawName = field(doc, "name");
    // A file whose name is no valid id cannot have run (and must not name a path to read).
    const run = idProblem(id) ? undefined : lastRun(ctx.cwd, id);
    const advice = run ? await mergeAdvice(ctx, run.state) : undefined;
    entries.push({
      id,
      name: result.ok ? result.workstream.name : typeof rawName === "string" ? rawName : "",
      file: displayPath(file, ctx.cwd),
      steps: result.ok ? result.workstream.steps.length : Array.isArray(rawSteps) ? rawSteps.length : undefined,
      valid: result.ok,
      errors: result.diagnostics.filter((d) => d.severity === "error").length,
      warnings: result.diagnostics.filter((d) => d.severity === "warning").length,
      lastRun: run?.status,
      merge: advice ? pendingMerge(advice) : undefined,
    });
  }
  return entries;
}

export async function listCommand(options: ListOptions, ctx: CliContext): Promise<number> {
  const entries = await listWorkstreams(ctx);
  if (options.json) {
    out(ctx, JSON.stringify({ workstreams: entries }, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    err(ctx, `no workstreams in ${displayPath(ctx.dir, ctx.cwd)}; create one with \`ws init\``);
    return 0;
  }
  const rows = entries.map((e) => [
    e.id,
    e.name,
    e.steps === undefined ? "-" : String(e.steps),
    e.valid ? (e.warnings ? `valid (${e.warnings} warning${e.warnings === 1 ? "" : "s"})` : "valid") : `invalid (${e.errors} error${e.errors === 1 ? "" : "s"})`,
    e.lastRun ?? "-",
  ]);
  const width = terminalWidth(ctx);
  // The ids stay whole; the name gives way, then goes (ws validate <id> shows it).
  const fit = fitColumns([["ID", "NAME", "STEPS", "VALIDITY", "LAST RUN"], ...rows], width ?? Infinity, [{ cut: 1, keep: "start", min: 12 }, { drop: 1 }], SPACED);
  const [header = [], ...shown] = fit.rows;
  const widths = header.map((h, i) => Math.max(h.length, ...shown.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ");
  out(ctx, line(header));
  for (const row of shown) out(ctx, line(row));
  for (const e of entries) if (e.merge) out(ctx, pendingMergeLine(e.id, e.merge));
  if (entries.some((e) => !e.valid) && !ctx.quiet) err(ctx, "run `ws validate` to see what is wrong with the invalid ones");
  return 0;
}
