import type { Diagnostic, SourceFile } from "../diagnostics.js";
import type { Workstream } from "../workstream/model.js";

// PLACEHOLDER: the graph helper replaces this with the real checks.
export function checkGraph(_ws: Workstream, _source: SourceFile | undefined): Diagnostic[] {
  return [];
}
