import fs from "node:fs";
import path from "node:path";
import type { Diagnostic, SourceFile } from "../diagnostics.js";
import { UserError } from "../errors.js";
import { checkGraph } from "../graph/check.js";
import { checkOutputRefs } from "../graph/output-refs.js";
import { checkRawDocument } from "./check-raw.js";
import { checkNulBytes, checkSemantics } from "./check-semantics.js";
import { kindOfEntry, stemOf } from "./locate-file.js";
import type { Workstream } from "./model.js";
import { graphSkeleton } from "./graph-skeleton.js";
import { normalize } from "./normalize.js";
import { createSourceFile, formatOf, parseSource, type PositionedSource } from "./parse-source.js";
import type { RawWorkstream } from "./raw-types.js";
import { schemaDiagnostics } from "./schema.js";
import { fileDigest } from "./digest.js";

export interface LoadOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export type LoadResult =
  | { ok: true; workstream: Workstream; source: SourceFile; diagnostics: Diagnostic[] } // warnings/notes only
  | {
      ok: false;
      source: SourceFile | undefined;
      diagnostics: Diagnostic[];
      /** The parsed document when the file was readable JSON/YAML (e.g. for `ws list` to show its id and name). */
      document?: unknown;
    }; // at least one error

/** The path to show: relative to cwd when the file is inside it. */
export function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (a.location?.offset ?? -1) - (b.location?.offset ?? -1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** Parse + schema + interpolation + normalization + semantic checks + checkGraph. */
export async function loadWorkstream(file: string, opts: LoadOptions): Promise<LoadResult> {
  const absolute = path.resolve(opts.cwd, file);
  const shown = displayPath(absolute, opts.cwd);
  let bytes: Buffer;
  try {
    // Stat first: reading a FIFO named like a workstream would block until someone writes to it.
    // Synchronous: node:fs/promises loads 8 of Node's internal modules (~1 MB of a start; bench/NOTES.md,
    // issue 32) for two calls that take microseconds.
    const stat = fs.statSync(absolute);
    if (!stat.isFile() && !stat.isDirectory()) {
      return { ok: false, source: undefined, diagnostics: [{ severity: "error", code: "io", message: `is ${kindOfEntry(stat)}, not a workstream file`, file: shown, fix: "give a regular .json or .yaml file" }] };
    }
    bytes = fs.readFileSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a folder, not a workstream file" : `cannot read the file (${code ?? String(error)})`;
    return { ok: false, source: undefined, diagnostics: [{ severity: "error", code: "io", message, file: shown }] };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const source = createSourceFile(shown, "");
    return { ok: false, source, diagnostics: [{ severity: "error", code: "encoding", message: "the file is not valid UTF-8 text", file: shown, location: source.position(0, 0), fix: "save it as UTF-8" }] };
  }
  const hash = fileDigest(bytes);
  try {
    return analyze(text, { absolute, shown, hash, env: opts.env ?? process.env });
  } catch (error) {
    // Pathologically nested input can exhaust the stack in a dependency; that is the file's fault.
    if (!(error instanceof RangeError)) throw error;
    const source = createSourceFile(shown, text);
    return {
      ok: false,
      source,
      diagnostics: [{ severity: "error", code: "too-deep", message: `the file is nested too deeply to check (${error.message})`, file: shown, location: source.position(0, 0) }],
    };
  }
}

function analyze(text: string, ctx: { absolute: string; shown: string; hash: string; env: NodeJS.ProcessEnv }): LoadResult {
  const parsed = parseSource(text, { path: ctx.shown, format: formatOf(ctx.absolute) });
  const source: PositionedSource = parsed.source;
  const finish = (diagnostics: Diagnostic[], workstream?: Workstream, document?: unknown): LoadResult => {
    diagnostics.sort(byPosition);
    return workstream && !diagnostics.some((d) => d.severity === "error")
      ? { ok: true, workstream, source, diagnostics }
      : { ok: false, source, diagnostics, document };
  };
  if (!parsed.ok) return finish(parsed.diagnostics);

  const value = parsed.value;
  if (!isObject(value)) {
    return finish([
      {
        severity: "error",
        code: "schema",
        message: `a workstream file must hold an object ({ "id": ..., "steps": [...] }), found ${kindOf(value)}`,
        file: ctx.shown,
        location: source.locate([]) ?? source.position(0, 0),
        fix: "run `ws init` for a starter workstream",
      },
    ]);
  }

  const diagnostics = [...parsed.diagnostics, ...checkNulBytes(value, source)];
  const stem = stemOf(ctx.absolute);
  if (typeof value.id === "string" && value.id !== stem) {
    diagnostics.push({
      severity: "error",
      code: "id-mismatch",
      message: `id "${value.id}" does not match the file name "${path.basename(ctx.absolute)}"`,
      file: ctx.shown,
      location: source.locate(["id"]),
      fix: `set "id": "${stem}", or rename the file to ${value.id}${path.extname(ctx.absolute)}`,
    });
  }
  const schemaProblems = schemaDiagnostics(value, source, ctx.shown);
  if (schemaProblems.length > 0) {
    const raw = [...diagnostics, ...schemaProblems, ...checkRawDocument(value, source, ctx.env)];
    return finish([...raw, ...graphDespiteSchema(value, raw, { ...ctx, source })], undefined, value);
  }

  const raw = value as unknown as RawWorkstream;
  const normalized = normalize(raw, { file: ctx.absolute, hash: ctx.hash, env: ctx.env, source });
  diagnostics.push(...normalized.diagnostics, ...checkSemantics(normalized.workstream, raw, source));
  if (normalized.diagnostics.length === 0) diagnostics.push(...checkGraph(normalized.workstream, source), ...checkOutputRefs(normalized.workstream, source));
  return finish(diagnostics, normalized.workstream, value);
}

/**
 * The graph's errors of a file the schema rejected, where its graph can still be built (every
 * error of a file in one pass, design §2): those the raw checks already made (a duplicate id) are
 * not said twice.
 */
function graphDespiteSchema(value: Record<string, unknown>, already: Diagnostic[], ctx: { absolute: string; hash: string; env: NodeJS.ProcessEnv; source: PositionedSource }): Diagnostic[] {
  const skeleton = graphSkeleton(value);
  if (skeleton === undefined) return [];
  const { workstream } = normalize(skeleton, { file: ctx.absolute, hash: ctx.hash, env: ctx.env, source: ctx.source });
  const said = new Set(already.map((d) => `${d.code}@${d.location?.offset ?? ""}`));
  return checkGraph(workstream, ctx.source).filter((d) => !said.has(`${d.code}@${d.location?.offset ?? ""}`));
}

/** For commands that need a valid workstream: throws UserError carrying the diagnostics. */
export async function loadValidWorkstream(
  file: string,
  opts: LoadOptions,
): Promise<{ workstream: Workstream; source: SourceFile; warnings: Diagnostic[] }> {
  const result = await loadWorkstream(file, opts);
  if (!result.ok) {
    const shown = displayPath(path.resolve(opts.cwd, file), opts.cwd);
    throw new UserError(`${shown} is not a valid workstream`, { diagnostics: result.diagnostics });
  }
  return { workstream: result.workstream, source: result.source, warnings: result.diagnostics };
}
