import type { CliContext } from "./context.js";
import { err } from "./context.js";
import type { UserError } from "../errors.js";
import { formatDiagnostics } from "./format-diagnostics.js";

/** One clear message for a user mistake: the diagnostics if any, else `ws: message`, then the fix. */
export function printUserError(ctx: CliContext, error: UserError): void {
  const diagnostics = error.options.diagnostics ?? [];
  if (diagnostics.length > 0) {
    ctx.stderr.write(formatDiagnostics(diagnostics, { color: ctx.color, cwd: ctx.cwd }));
  } else {
    err(ctx, `ws: ${error.message}`);
  }
  if (error.options.fix) err(ctx, `  fix: ${error.options.fix}`);
}
