import type { Step, Workstream } from "../workstream/model.js";

/**
 * What a job installs so the agent CLIs its step calls exist on a fresh runner, pinned: a job
 * that installs `latest` runs a different agent each week. The npm versions are the ones ws's
 * real-CLI tests run (test/real-cli/versions.json; a test keeps the two equal).
 */
export const AGENT_NPM_PACKAGES: Record<string, { name: string; version: string }> = {
  claude: { name: "@anthropic-ai/claude-code", version: "2.1.332" },
  codex: { name: "@openai/codex", version: "0.171.0" },
  gemini: { name: "@google/gemini-cli", version: "0.61.0" },
};

/** aider is a Python program: pipx (on GitHub's Ubuntu runners) gives it its own environment. */
export const AIDER_VERSION = "0.86.1";

export type AgentInstall = { kind: "npm"; spec: string } | { kind: "pipx"; spec: string };

/** The program a tool name runs: a custom tool's command (its basename), else the built-in of that name. */
function programOf(ws: Workstream, tool: string): { program: string; command: string | undefined } {
  const command = ws.tools[tool]?.command;
  return { program: command?.split("/").pop() ?? tool, command };
}

export function installFor(program: string): AgentInstall | undefined {
  const npm = AGENT_NPM_PACKAGES[program];
  if (npm) return { kind: "npm", spec: `${npm.name}@${npm.version}` };
  if (program === "aider") return { kind: "pipx", spec: `aider-chat==${AIDER_VERSION}` };
  return undefined;
}

/** Every install a step's tools need (fallback tools too: ws may switch to them mid-run). */
export function agentInstalls(ws: Workstream, step: Step): AgentInstall[] {
  const seen = new Map<string, AgentInstall>();
  for (const tool of step.tools.length > 0 ? step.tools : [step.tool]) {
    const install = installFor(programOf(ws, tool).program);
    if (install) seen.set(install.spec, install);
  }
  return [...seen.values()];
}

export interface UninstallableTool {
  tool: string;
  command: string;
  steps: string[];
}

/**
 * Custom tools a runner would not have: a bare command that is none of the known agents. A
 * command with a relative path is in the checkout; an absolute one or a name given with
 * `--tool-installed` is the user's promise that the runner has it.
 */
export function uninstallableTools(ws: Workstream, installed: readonly string[]): UninstallableTool[] {
  const found = new Map<string, UninstallableTool>();
  for (const step of ws.steps) {
    for (const tool of step.tools.length > 0 ? step.tools : [step.tool]) {
      if (tool === "shell" || installed.includes(tool)) continue;
      const { program, command } = programOf(ws, tool);
      if (installFor(program) || command === undefined || command.includes("/") || installed.includes(program)) continue;
      const entry = found.get(tool) ?? { tool, command, steps: [] };
      entry.steps.push(step.id);
      found.set(tool, entry);
    }
  }
  return [...found.values()];
}
