import { UserError } from "../errors.js";
import type { BuiltinTool, Step, Workstream } from "../workstream/model.js";
import { wantedBinary, resolveToolBinary } from "./binary.js";
import { aiderAdapter } from "./aider.js";
import { claudeAdapter } from "./claude.js";
import { codexAdapter } from "./codex.js";
import { customAdapter } from "./custom.js";
import { geminiAdapter } from "./gemini.js";
import { shellAdapter } from "./shell.js";
import type { ToolAdapter } from "./types.js";

export { resolveToolBinary } from "./binary.js";

const ADAPTERS: Record<BuiltinTool, ToolAdapter> = {
  aider: aiderAdapter,
  claude: claudeAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
  shell: shellAdapter,
};
// A Map, so that a tool named "toString" is not found on Object.prototype.
const BUILTIN = new Map<string, ToolAdapter>(Object.entries(ADAPTERS));

/** The adapter for a step's tool: a built-in one, else the workstream's `tools[name]`. */
export function adapterFor(ws: Workstream, toolName: string): ToolAdapter {
  const builtin = BUILTIN.get(toolName);
  if (builtin) return builtin;
  const custom = Object.hasOwn(ws.tools, toolName) ? ws.tools[toolName] : undefined;
  if (custom) return customAdapter(toolName, custom);
  throw new UserError(`unknown tool "${toolName}"`, {
    fix: `use one of ${[...BUILTIN.keys()].join(", ")} or declare it under "tools"`,
  });
}

/** Tools needed by these steps that can't be found, with the steps needing each. `shell` needs /bin/sh. */
export function findMissingTools(
  ws: Workstream,
  steps: Step[],
  env: NodeJS.ProcessEnv,
): Array<{ tool: string; binary: string; steps: string[] }> {
  const byTool = new Map<string, string[]>();
  for (const step of steps) {
    const ids = byTool.get(step.tool) ?? [];
    ids.push(step.id);
    byTool.set(step.tool, ids);
  }
  const missing: Array<{ tool: string; binary: string; steps: string[] }> = [];
  for (const [tool, ids] of byTool) {
    if (resolveToolBinary(ws, tool, env) === undefined) missing.push({ tool, binary: wantedBinary(ws, tool, env), steps: ids });
  }
  return missing;
}

/** The first step whose tool would stall before doing anything (see ToolAdapter.preflight), with the fix. */
export function preflightProblem(ws: Workstream, steps: Step[], env: NodeJS.ProcessEnv): { message: string; fix: string } | undefined {
  for (const step of steps) {
    const problem = BUILTIN.get(step.tool)?.preflight?.(step, ws, env);
    if (problem) return problem;
  }
  return undefined;
}
