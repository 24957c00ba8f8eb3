import { UserError } from "../errors.js";

/**
 * The workstream id of a command, from its positional argument or `--ws-id` (the same thing two
 * ways: `ws run ci` and `ws run --ws-id ci`). Undefined when neither was given.
 */
export function pickId(positional: string | undefined, flag: string | undefined, command: string): string | undefined {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new UserError(`two workstream ids given: ${positional} and --ws-id ${flag}`, { fix: `give one: ws ${command} ${flag}` });
  }
  return positional ?? flag;
}
