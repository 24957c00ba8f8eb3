import type { Diagnostic } from "./diagnostics.js";

/** Marks a UserError for isUserError. The CLI's bundle gives each command its own copy of this
 * module (scripts/bundle.mjs), so `instanceof` in main.ts would not see a command's errors. */
const BRAND = Symbol.for("ws-orchestrator.UserError");

/**
 * A mistake the user can fix (bad flag, unknown workstream id, invalid file). The CLI prints the
 * message (and diagnostics, if any) without a stack trace and exits with `exitCode` (2 by default).
 * Anything else that is thrown is a bug and is reported as an internal error (exit 70).
 */
export class UserError extends Error {
  override readonly name = "UserError";
  readonly [BRAND] = true;
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
  return error instanceof Error && (error as Partial<Record<typeof BRAND, boolean>>)[BRAND] === true;
}
