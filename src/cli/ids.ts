import { UserError } from "../errors.js";
import { knownIds } from "../store/query.js";
import type { CliContext } from "./context.js";

export { pickId } from "./pick-id.js";

/** A command that needs an id got none: say so and list the ids there are. */
export function missingIdError(ctx: CliContext, command: string): UserError {
  const ids = knownIds(ctx.cwd, ctx.dir);
  if (ids.length === 0) {
    return new UserError(`ws ${command} needs a workstream id, and there are no workstreams in ${ctx.dir}`, {
      fix: "create one with `ws init`, or point --dir at the folder that holds them",
    });
  }
  const shown = ids.length > 20 ? `${ids.slice(0, 20).join(", ")}, ... (${ids.length} in all: ws list)` : ids.join(", ");
  return new UserError(`ws ${command} needs a workstream id`, { fix: `ws ${command} ${ids[0]} (available: ${shown})` });
}
