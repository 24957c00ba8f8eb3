import type { CliContext } from "./context.js";

// PLACEHOLDER: replaced by the module's owner; must not survive to a landing.
export async function statusCommand(_options: object, _ctx: CliContext): Promise<number> {
  throw new Error("status: not implemented yet");
}
