import type { Diagnostic } from "./diagnostics.js";

/**
 * A mistake the user can fix (bad flag, unknown workstream id, invalid file). The CLI prints the
 * message (and diagnostics, if any) without a stack trace and exits with `exitCode` (2 by default).
 * Anything else that is thrown is a bug and is reported as an internal error (exit 70).
 */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly options: { exitCode?: number; diagnostics?: Diagnostic[]; fix?: string } = {},
  ) {
    super(message);
  }
  get exitCode(): number {
    return this.options.exitCode ?? 2;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
