import { UserError } from "../errors.js";

/**
 * A run-state file that cannot be read or written (permissions, disk full, a file where a folder
 * should be) is something the user fixes, so it is a UserError that names the path.
 */
export function storeError(what: string, file: string, error: unknown): UserError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UserError(`cannot ${what} ${file}: ${reason}`, {
    fix: "check that the folder exists and is writable, and that the disk is not full",
  });
}
