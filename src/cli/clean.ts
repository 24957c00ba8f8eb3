import path from "node:path";
import type { CliContext } from "./context.js";
import { err, out } from "./context.js";
import { UserError } from "../errors.js";

export interface CleanCommandOptions {
  wsId: string;
  yes?: boolean;
}

/** `ws clean --ws-id ID [--yes]`: asks in a terminal, needs --yes elsewhere; exit 3 while a run holds the lock. */
export async function cleanCommand(options: CleanCommandOptions, ctx: CliContext): Promise<number> {
  const { assertValidId } = await import("../workstream/locate-file.js");
  assertValidId(options.wsId);
  const { clean, isEmptyPlan, planClean } = await import("../git/clean.js");
  const plan = await planClean(ctx.cwd, options.wsId);
  const rel = (p: string) => path.relative(ctx.cwd, p) || p;
  if (isEmptyPlan(plan)) {
    out(ctx, `nothing to clean for ${options.wsId}`);
    return 0;
  }
  const what = [
    ...(plan.tree ? [`the worktree ${rel(plan.tree)}`] : []),
    ...(plan.lanes ? [`the worktrees of its steps in ${plan.lanes}`] : []),
    ...(plan.stateDir ? [`the state folder ${rel(plan.stateDir)}/ (logs, status, history)`] : []),
    ...plan.backups.map((b) => `the backup branch ${b}`),
  ];
  if (!options.yes) {
    if (!process.stdin.isTTY || !ctx.stdout.isTTY) {
      throw new UserError(`ws clean would remove ${what.join(", ")}, and there is no terminal to ask`, { fix: `run it again with --yes: ws clean --ws-id ${options.wsId} --yes` });
    }
    out(ctx, `ws clean will remove:\n${what.map((w) => `  - ${w}`).join("\n")}`);
    if (!(await confirm(ctx, "remove them? [y/N] "))) {
      out(ctx, "nothing removed");
      return 0;
    }
  }
  const result = await clean(ctx.cwd, plan);
  if (result.kind === "locked") {
    err(ctx, `ws: a run of ${options.wsId} is in progress (pid ${result.holder.pid} on ${result.holder.host}, since ${result.holder.startedAt}); nothing removed`);
    err(ctx, `  fix: wait for it to end (ws status --ws-id ${options.wsId} --watch), or stop it, then clean`);
    return 3;
  }
  for (const w of what) out(ctx, `removed ${w}`);
  if (plan.branch) out(ctx, `kept branch ${plan.branch} (the runs' work; delete it with: git branch -D ${plan.branch})`);
  return 0;
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: ctx.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
