/** A position in a source file; `line` and `col` are 1-based, `offset`/`length` in characters. */
export interface SourceLocation {
  line: number;
  col: number;
  offset: number;
  length: number;
}

export type Severity = "error" | "warning" | "note";

/**
 * One finding about a workstream file. Every user-facing config problem is one of these, so that
 * all of a file's problems are reported in one pass, each pointing at its source
 * (`file:line:col`), with the line, an underline and a fix.
 */
export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable kind, e.g. `parse`, `schema`, `unknown-key`, `cycle`, `unknown-dependency`, `file-conflict`. */
  code: string;
  message: string;
  /** The file as the user named it (relative to cwd when possible). */
  file: string;
  location?: SourceLocation | undefined;
  /** How to fix it, e.g. `did you mean "depends_on"?`. */
  fix?: string | undefined;
  /** Secondary locations, e.g. every edge of a cycle. */
  related?: Array<{ message: string; location?: SourceLocation | undefined }> | undefined;
}

/** A key path into the parsed document, e.g. `["steps", 2, "depends_on", 0]`. */
export type DocPath = ReadonlyArray<string | number>;

/** A parsed source file that can map document paths back to positions. */
export interface SourceFile {
  /** Path as the user named it (used in messages). */
  path: string;
  text: string;
  /** Position of the value at `path` (or of its key, with `part: "key"`); undefined if absent. */
  locate(path: DocPath, part?: "key" | "value"): SourceLocation | undefined;
}
