import fs from "node:fs";
import path from "node:path";
import type { Diagnostic } from "../diagnostics.js";
import { UserError } from "../errors.js";
import { displayPath, loadWorkstream } from "../workstream/load.js";
import { listWorkstreamFiles, locateWorkstream } from "../workstream/locate-file.js";
import { err, out, type CliContext } from "./context.js";

export interface ValidateOptions {
  files?: string[];
  wsId?: string;
  json?: boolean;
}

export interface FileReport {
  file: string;
  valid: boolean;
  steps: number | undefined;
  diagnostics: Diagnostic[];
}

/** `ws validate ci` names a workstream, `ws validate ci.json` or `./ci` a file. */
function looksLikeId(arg: string, ctx: CliContext): boolean {
  if (arg.includes("/") || /\.(json|ya?ml)$/i.test(arg)) return false;
  return !fs.existsSync(path.resolve(ctx.base, arg));
}

/** The files `ws validate` checks: --ws-id, the given paths, or every file in the workstreams folder. */
function targets(options: ValidateOptions, ctx: CliContext): string[] {
  const files = options.files ?? [];
  if (options.wsId !== undefined && files.length > 0) {
    throw new UserError("give either --ws-id or file paths, not both");
  }
  if (options.wsId !== undefined) return [locateWorkstream(options.wsId, { dir: ctx.dir })];
  if (files.length > 0) return files.map((f) => (looksLikeId(f, ctx) ? locateWorkstream(f, { dir: ctx.dir }) : path.resolve(ctx.base, f)));
  const all = listWorkstreamFiles(ctx.dir);
  if (all.length === 0) {
    throw new UserError(`no workstream files (.json, .yaml, .yml) in ${displayPath(ctx.dir, ctx.cwd)}`, {
      fix: "create one with `ws init`, or point --dir at the folder that holds them",
    });
  }
  return all;
}

/** Checks every file completely (all errors of all files in one run); returns one report per file. */
export async function validateFiles(files: string[], ctx: CliContext, shownFrom = ctx.cwd): Promise<FileReport[]> {
  const reports: FileReport[] = [];
  for (const file of files) {
    const result = await loadWorkstream(file, { cwd: shownFrom, env: ctx.env });
    reports.push({
      file: displayPath(file, shownFrom),
      valid: result.ok,
      steps: result.ok ? result.workstream.steps.length : undefined,
      diagnostics: result.diagnostics,
    });
  }
  return reports;
}

export async function validateCommand(options: ValidateOptions, ctx: CliContext): Promise<number> {
  const files = targets(options, ctx);
  // Paths read from where the user stands when the files are below it (as git shows them), else from the project root.
  const shownFrom = files.every((f) => !path.relative(ctx.base, f).startsWith("..")) ? ctx.base : ctx.cwd;
  const reports = await validateFiles(files, ctx, shownFrom);
  const invalid = reports.filter((r) => !r.valid).length;
  if (options.json) {
    out(ctx, JSON.stringify({ files: reports.map(({ file, valid, diagnostics }) => ({ file, valid, diagnostics })) }, null, 2));
    return invalid > 0 ? 2 : 0;
  }
  // Loaded only for text: it brings chalk, ~15 ms that `--json` (CI) does not need.
  const { formatDiagnostics } = await import("./format-diagnostics.js");
  const text = formatDiagnostics(reports.flatMap((r) => r.diagnostics), { color: ctx.color, cwd: shownFrom });
  if (text) ctx.stderr.write(text);
  if (!ctx.quiet) {
    for (const r of reports) {
      const warnings = r.diagnostics.filter((d) => d.severity === "warning").length;
      const errors = r.diagnostics.filter((d) => d.severity === "error").length;
      out(ctx, r.valid
        ? `ok       ${r.file} (${r.steps} step${r.steps === 1 ? "" : "s"}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""})`
        : `invalid  ${r.file} (${errors} error${errors === 1 ? "" : "s"})`);
    }
  }
  if (invalid > 0) err(ctx, `${invalid} of ${reports.length} file${reports.length === 1 ? "" : "s"} invalid`);
  else if (!ctx.quiet) out(ctx, `${reports.length} file${reports.length === 1 ? "" : "s"} valid`);
  return invalid > 0 ? 2 : 0;
}
