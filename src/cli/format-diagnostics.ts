import fs from "node:fs";
import path from "node:path";
import { Chalk } from "chalk";
import type { Diagnostic, SourceLocation } from "../diagnostics.js";

/**
 * Diagnostics as people read them (wireit/gcc style):
 *
 *   workstreams/x.json:7:18: error: unknown key "depend_on" in steps[0]
 *      7 |     { "id": "a", "depend_on": ["b"] },
 *        |                  ~~~~~~~~~~~
 *     fix: did you mean "depends_on"?
 *
 * then a count line. The source line is read from the file named by the diagnostic.
 */

export interface FormatOptions {
  color: boolean;
  /** Folder that relative `Diagnostic.file` paths are relative to (default: process.cwd()). */
  cwd?: string | undefined;
  /** Source texts by `Diagnostic.file`, when already in memory (else read from disk). */
  sources?: ReadonlyMap<string, string> | undefined;
}

/** Longest source excerpt shown; minified files can have one 10 MB line. */
const MAX_EXCERPT = 120;

type Lines = (line: number) => string | undefined;

function lineReader(text: string): Lines {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let starts: number[] | undefined;
  return (line) => {
    if (!starts) {
      starts = [0];
      for (let i = body.indexOf("\n"); i !== -1; i = body.indexOf("\n", i + 1)) starts.push(i + 1);
    }
    const start = starts[line - 1];
    if (start === undefined) return undefined;
    const end = starts[line] ?? body.length + 1;
    return body.slice(start, end - 1).replace(/\r$/, "");
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function formatDiagnostics(diagnostics: Diagnostic[], options: FormatOptions): string {
  if (diagnostics.length === 0) return "";
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const readers = new Map<string, Lines | undefined>();
  const linesOf = (file: string): Lines | undefined => {
    if (!readers.has(file)) {
      let text = options.sources?.get(file);
      if (text === undefined) {
        try {
          text = fs.readFileSync(path.resolve(options.cwd ?? process.cwd(), file), "utf8");
        } catch {
          text = undefined;
        }
      }
      readers.set(file, text === undefined ? undefined : lineReader(text));
    }
    return readers.get(file);
  };

  const excerpt = (file: string, loc: SourceLocation, indent: string, mark: (s: string) => string): string => {
    const line = linesOf(file)?.(loc.line);
    if (line === undefined) return "";
    // Tabs become one space so the underline stays aligned in any terminal.
    const full = line.replace(/\t/g, " ");
    let from = 0;
    if (full.length > MAX_EXCERPT) from = Math.max(0, Math.min(loc.col - 1 - 40, full.length - MAX_EXCERPT));
    const shown = (from > 0 ? "…" : "") + full.slice(from, from + MAX_EXCERPT) + (from + MAX_EXCERPT < full.length ? "…" : "");
    const col = loc.col - 1 - from + (from > 0 ? 1 : 0);
    const room = Math.max(1, Math.min(loc.length, full.length - (loc.col - 1), MAX_EXCERPT - (loc.col - 1 - from)));
    const underline = loc.length === 0 ? "^" : "~".repeat(room);
    const gutter = String(loc.line);
    const pad = " ".repeat(gutter.length);
    return `${indent}${c.dim(`${gutter} |`)} ${shown}\n${indent}${c.dim(`${pad} |`)} ${" ".repeat(Math.max(0, col))}${mark(underline)}\n`;
  };

  let out = "";
  let errors = 0;
  let warnings = 0;
  let notes = 0;
  const files = new Set<string>();
  for (const d of diagnostics) {
    files.add(d.file);
    if (d.severity === "error") errors++;
    else if (d.severity === "warning") warnings++;
    else notes++;
    const paint = d.severity === "error" ? c.red : d.severity === "warning" ? c.yellow : c.cyan;
    const where = d.location ? `${d.file}:${d.location.line}:${d.location.col}` : d.file;
    out += `${c.bold(where)}: ${paint.bold(d.severity)}: ${d.message}\n`;
    if (d.location) out += excerpt(d.file, d.location, "  ", paint);
    if (d.fix) out += `  ${c.green("fix:")} ${d.fix}\n`;
    for (const r of d.related ?? []) {
      out += r.location ? `    ${c.bold(`${d.file}:${r.location.line}:${r.location.col}`)}: ${r.message}\n` : `    ${r.message}\n`;
      if (r.location) out += excerpt(d.file, r.location, "      ", c.cyan);
    }
    out += "\n";
  }
  const counts = [errors ? plural(errors, "error") : "", warnings ? plural(warnings, "warning") : "", notes ? plural(notes, "note") : ""].filter(Boolean);
  out += `${counts.join(", ")} in ${plural(files.size, "file")}\n`;
  return out;
}
