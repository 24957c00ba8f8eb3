import fs from "node:fs";
import type { Step, Workstream } from "../workstream/model.js";
import { bwrapBinary } from "./attempt-containment.js";
import { canFindMarked } from "./attempt-mark.js";
import { sandboxProblem, SANDBOX_PACKAGE } from "./sandbox.js";
import { withheldSecrets } from "./secrets.js";

/**
 * What the run checks and says about containment before any step starts: the sandbox must be
 * possible (never a silent downgrade), and the header names the secrets steps will not see and
 * what cannot be enforced on this machine.
 */

/**
 * Why this machine cannot make the sandbox the workstream asks for, or undefined when it can (or
 * none is asked for). Checked before anything runs: a sandbox is never silently dropped.
 */
export function sandboxUnavailable(ws: Workstream, env: NodeJS.ProcessEnv): { problem: string; fix: string } | undefined {
  if (ws.execution.isolation !== "sandbox") return undefined;
  const install = `install the "${SANDBOX_PACKAGE}" package (apt-get install ${SANDBOX_PACKAGE}; dnf install ${SANDBOX_PACKAGE}), allow user namespaces, or set execution.isolation to "worktree"`;
  if (process.platform !== "linux") return { problem: `bubblewrap needs Linux; this is ${process.platform}`, fix: `set execution.isolation to "worktree"` };
  const problem = bwrapProblem(env, ws.execution.sandbox.network);
  if (problem !== undefined) return { problem, fix: install };
  const missing = ws.execution.sandbox.writable.find((dir) => !isDirectory(dir));
  if (missing === undefined) return undefined;
  return { problem: `execution.sandbox.writable names ${missing}, which is not a folder`, fix: "create it, or remove it from execution.sandbox.writable" };
}

/**
 * Whether agent steps run sandboxed without the workstream asking: in a worktree run whose
 * workstream sets no isolation, on Linux where bwrap can make a sandbox. The note says what the
 * run gets either way (said once per run, only when an agent step is selected).
 */
export function defaultAgentSandbox(ws: Workstream, steps: Step[], env: NodeJS.ProcessEnv): { on: boolean; note?: string } {
  if (ws.execution.isolation !== undefined || !steps.some((s) => s.tool !== "shell")) return { on: false };
  const problem = process.platform === "linux" ? bwrapProblem(env, ws.execution.sandbox.network) : `bubblewrap needs Linux; this is ${process.platform}`;
  if (problem === undefined) {
    return { on: true, note: 'agent steps run sandboxed (bubblewrap): everything outside their worktree, their state folder and their CLI\'s own config folder is read-only to them (set execution.isolation to "worktree" to run them without)' };
  }
  return { on: false, note: `no sandbox for agent steps: ${problem}; a step that writes outside its worktree is only reported afterwards, not prevented (install "${SANDBOX_PACKAGE}" to have agent steps sandboxed)` };
}

/**
 * Why bwrap cannot sandbox here, or undefined. `WS_BWRAP=none` hides it as if it were not
 * installed (as on macOS): CI runs the fault suite that way, so the unsandboxed path is tested too.
 */
function bwrapProblem(env: NodeJS.ProcessEnv, network: boolean): string | undefined {
  if (env.WS_BWRAP === "none") return "bwrap is hidden by WS_BWRAP=none";
  return sandboxProblem(bwrapBinary(env), network);
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const LISTED = 4;

function listed(ids: string[]): string {
  return ids.length > LISTED ? `${ids.slice(0, LISTED).join(", ")} and ${ids.length - LISTED} more` : ids.join(", ");
}

/**
 * Lines for the run header. `keysOf` gives a step's tool key variables (none for shell steps),
 * `givenOf` the variables the step's tool is given explicitly (step env, a custom tool's env).
 */
export function containmentNotes(
  steps: Step[],
  env: NodeJS.ProcessEnv,
  keysOf: (step: Step) => readonly string[],
  givenOf: (step: Step) => string[],
): string[] {
  const notes: string[] = [];
  const where = new Map<string, string[]>();
  const add = (names: string[], place: string) => {
    for (const name of names) where.set(name, [...(where.get(name) ?? []), place]);
  };
  const inherited = { ...process.env, ...env };
  for (const step of steps) {
    add(withheldSecrets(inherited, [...keysOf(step), ...step.inheritEnv], givenOf(step)), step.id);
    if (step.acceptanceTests.length > 0) add(withheldSecrets(inherited, step.inheritEnv, Object.keys(step.env)), `${step.id}'s tests`);
  }
  if (where.size > 0) {
    const names = [...where.entries()].map(([name, places]) => `${name} (${listed(places)})`);
    notes.push(`secrets withheld from steps that do not need them: ${names.join("; ")}; pass one with "inherit_env" or a step's "env"`);
  }
  if (!canFindMarked()) {
    notes.push("no /proc here: a process a step starts in a session of its own (setsid, a daemon) is not found and can outlive its step; only the step's process group is killed");
  }
  return notes;
}
