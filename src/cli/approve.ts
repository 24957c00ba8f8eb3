import type { CliContext } from "./context.js";
import { out } from "./context.js";
import { UserError } from "../errors.js";
import { currentUser, decideGate } from "../store/approvals.js";
import type { Workstream } from "../workstream/model.js";
import { suggestOrList } from "../workstream/suggest.js";

export interface DecideOptions {
  wsId: string;
  step?: string;
  /** ws reject: why, recorded with the decision and shown in the step's detail. */
  reason?: string;
}

/** The steps of `ws` that `--approve` / `ws approve` may name: those with an approval gate. */
export function gatedStep(ws: Workstream, id: string, flag: string): void {
  const step = ws.steps.find((s) => s.id === id);
  const gated = ws.steps.filter((s) => s.approval).map((s) => s.id);
  if (!step) throw new UserError(`${flag} ${id}: ${ws.id} has no step "${id}"`, { fix: suggestOrList(id, gated, `${ws.id} has no step with an "approval" gate`) });
  if (!step.approval) {
    throw new UserError(`${flag} ${id}: step "${id}" has no approval gate`, { fix: gated.length > 0 ? `steps with one: ${gated.join(", ")}` : `add "approval": { "prompt": "..." } to the step, or leave it out of ${flag}` });
  }
}

export const approveCommand = (options: DecideOptions, ctx: CliContext): Promise<number> => decide(options, ctx, true);
export const rejectCommand = (options: DecideOptions, ctx: CliContext): Promise<number> => decide(options, ctx, false);

/** `ws approve` and `ws reject`: a decision for a gate of the workstream's running run. */
async function decide(options: DecideOptions, ctx: CliContext, approved: boolean): Promise<number> {
  const verb = approved ? "approve" : "reject";
  if (options.step === undefined) throw new UserError(`ws ${verb} needs --step <id>: the gated step to ${verb}`, { fix: `see which step waits with: ws status ${options.wsId}` });
  const { locateWorkstream } = await import("../workstream/locate-file.js");
  const { loadValidWorkstream } = await import("../workstream/load.js");
  const { workstream: ws } = await loadValidWorkstream(locateWorkstream(options.wsId, { dir: ctx.dir }), { cwd: ctx.cwd, env: ctx.env });
  gatedStep(ws, options.step, "--step");
  const by = currentUser(ctx.env);
  const outcome = decideGate({ cwd: ctx.cwd, wsId: ws.id, step: options.step, approved, by, reason: options.reason });
  switch (outcome.kind) {
    case "no_live_run":
      throw new UserError(`no run of ${ws.id} is going${outcome.status ? ` (the last one ${outcome.status === "interrupted" ? "was interrupted" : `ended ${outcome.status}`})` : ""}, so there is no gate to ${verb}`, {
        fix: approved ? `approve it ahead of time: ws run ${ws.id} --approve ${options.step}` : `start a run with: ws run ${ws.id}`,
      });
    case "not_waiting":
      throw new UserError(`step "${options.step}" of the running ${ws.id} is ${outcome.state}: its gate was already passed`, { fix: `see the run with: ws status ${ws.id}` });
    case "recorded":
      out(ctx, `${approved ? "approved" : "rejected"} ${options.step} of run ${outcome.runId} (by ${by})${options.reason ? `: ${options.reason}` : ""}; ${outcome.waiting ? "the run picks it up within a second" : "decided ahead: the run will not ask when it gets there"}`);
      return 0;
  }
}
