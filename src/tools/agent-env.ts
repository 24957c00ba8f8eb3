import { resolveToolBinary } from "./binary.js";
import type { ToolContext } from "./types.js";

/** The step's model, else the workstream default; undefined means "let the tool choose". */
export function modelFor(ctx: ToolContext): string | undefined {
  return ctx.step.model ?? ctx.workstream.defaults.model;
}

/** Agents run without colour or terminal tricks: their output goes to log files. */
export function agentEnv(ctx: ToolContext, toolEnv: Record<string, string> = {}): Record<string, string> {
  return { ...toolEnv, ...ctx.step.env, NO_COLOR: "1", TERM: "dumb" };
}

/**
 * The resolved binary, or the bare name when it is missing (the run checks for missing tools
 * before any step starts; a spawn error is still reported if it vanished since).
 */
export function commandFor(ctx: ToolContext, toolName: string, fallback: string): string {
  return resolveToolBinary(ctx.workstream, toolName, ctx.env) ?? fallback;
}

/** A variable as the tool sees it: the step's `env` over the run's environment. */
export function envOf(ctx: ToolContext, name: string): string | undefined {
  return ctx.step.env[name] ?? ctx.env[name];
}
