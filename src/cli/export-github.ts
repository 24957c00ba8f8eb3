import type { CliContext } from "./context.js";

// PLACEHOLDER: replaced by the module's owner; must not survive to a landing.
export async function exportGithubCommand(_options: object, _ctx: CliContext): Promise<number> {
  throw new Error("export-github: not implemented yet");
}
