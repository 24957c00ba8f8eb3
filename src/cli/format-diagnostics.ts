import type { Diagnostic } from "../diagnostics.js";

// PLACEHOLDER: replaced by the workstream helper.
export function formatDiagnostics(diagnostics: Diagnostic[], _options: { color: boolean }): string {
  return diagnostics.map((d) => `${d.file}: ${d.severity}: ${d.message}\n`).join("");
}
