import type { CliContext } from "./context.js";

// PLACEHOLDER: replaced by the module's owner; must not survive to a landing.
export async function logsCommand(_options: object, _ctx: CliContext): Promise<number> {
  throw new Error("logs: not implemented yet");
}
