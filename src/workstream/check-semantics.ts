import type { Diagnostic, DocPath, SourceFile } from "../diagnostics.js";
import { BUILTIN_TOOLS, type Workstream } from "./model.js";
import { locateNearest } from "./parse-source.js";
import type { RawWorkstream } from "./raw-types.js";
import { didYouMean } from "./suggest.js";

/**
 * Rules the schema cannot express: the tool a step names must exist, and a step must carry what
 * its tool needs (a shell step a `run` command, an agent step a prompt and no `run`). Graph
 * rules (dependencies, cycles, file-scope conflicts) live in src/graph/check.ts.
 */

const AGENT_PROMPT_PLACEHOLDERS = ["{prompt}", "{prompt_file}"];

export function checkSemantics(ws: Workstream, raw: RawWorkstream, source: SourceFile): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const error = (path: DocPath, message: string, fix?: string, part: "key" | "value" = "value"): void => {
    diagnostics.push({ severity: "error", code: "step", message, file: source.path, location: locateNearest(source, path, part), fix });
  };
  const known = [...BUILTIN_TOOLS, ...Object.keys(ws.tools)];
  const isKnown = (tool: string): boolean => known.includes(tool);
  const unknownTool = (path: DocPath, tool: string): void => {
    error(path, `unknown tool "${tool}"`, didYouMean(tool, known) ?? `use one of ${known.join(", ")}, or declare it under "tools"`, "value");
  };

  if (raw.defaults?.tool !== undefined && !isKnown(raw.defaults.tool)) unknownTool(["defaults", "tool"], raw.defaults.tool);

  ws.steps.forEach((step, i) => {
    const rawStep = raw.steps[i];
    const unknown = step.tools.findIndex((tool) => !isKnown(tool));
    if (unknown >= 0) {
      // An unknown defaults.tool is reported once, above, not for every step that inherits it.
      const at: DocPath = Array.isArray(rawStep?.tool) ? ["steps", i, "tool", unknown] : ["steps", i, "tool"];
      if (rawStep?.tool !== undefined) unknownTool(at, step.tools[unknown]!);
      return;
    }
    if (step.tools.length > 1 && step.tools.includes("shell")) {
      error(["steps", i, "tool"], `step "${step.id}" lists "shell" among fallback tools`, `a fallback list names agent tools only, e.g. ["claude", "codex"]`);
      return;
    }
    const name = `step "${step.id}"`;
    if (step.tool === "shell") {
      if (step.run === undefined) {
        const inherited = rawStep?.tool === undefined && raw.defaults?.tool === undefined;
        error(["steps", i, "id"], `${name} is a shell step but has no "run" command`,
          inherited && step.tasks.length > 0
            ? `steps default to the shell tool: set "tool" (e.g. "aider") to give its tasks to an agent, or add "run"`
            : `add "run": "<command line>"`);
      }
      return;
    }
    if (step.run !== undefined) {
      error(["steps", i, "run"], `${name} uses the ${step.tool} tool, which takes "tasks", not "run"`,
        `set "tool": "shell" to run a command, or put the instructions in "tasks"`, "key");
    }
    const custom = ws.tools[step.tool];
    const needsPrompt = !custom || custom.args.some((a) => AGENT_PROMPT_PLACEHOLDERS.some((p) => a.includes(p)));
    if (needsPrompt && step.tasks.length === 0 && step.description.trim() === "") {
      error(["steps", i, "id"], `${name} uses the ${step.tool} tool but has no prompt`, `add "tasks": ["..."] (or at least a "description")`);
    }
  });
  return diagnostics;
}
