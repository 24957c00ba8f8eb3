import type { CliContext } from "./context.js";

// PLACEHOLDER: replaced by the module's owner; must not survive to a landing.
export async function listCommand(_options: object, _ctx: CliContext): Promise<number> {
  throw new Error("list: not implemented yet");
}
