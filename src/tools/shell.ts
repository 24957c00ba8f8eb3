import { UserError } from "../errors.js";
import { simpleArgv } from "../proc/simple-command.js";
import { causeLine } from "../format/cause-line.js";
import { describeExit, exitedZero } from "./verdict.js";
import type { ToolAdapter } from "./types.js";

/**
 * `shell` steps run the step's own command line through /bin/sh, or exec it directly when it has
 * no shell syntax (one process less per step, as make does). Their output is the user's
 * program, not an agent's report, so quota words in it mean nothing: only the exit counts.
 */
export const shellAdapter: ToolAdapter = {
  name: "shell",
  async prepare(ctx) {
    // Validation rejects this first; an empty command line would otherwise "pass" silently.
    if (ctx.step.run === undefined) throw new UserError(`step "${ctx.step.id}" uses the shell tool but has no "run" command`);
    const argv = simpleArgv(ctx.step.run, { ...ctx.env, ...ctx.step.env });
    const [command, ...args] = argv ?? ["/bin/sh", "-c", ctx.step.run];
    return { command: command!, args, env: { ...ctx.step.env } };
  },
  parser() {
    return {
      onLine() {},
      finish(exit) {
        if (exitedZero(exit)) return { kind: "ok" };
        // What the command said last is its cause (`1 failed, 296 passed`); the exit code is in the reason.
        const cause = exit.outcome === "exited" && !exit.signal ? causeLine(exit.tail ?? [], exit.exitCode) : undefined;
        return { kind: "error", message: cause ?? `command ${describeExit(exit)}` };
      },
    };
  },
};
