import type { Diagnostic, DocPath, SourceFile } from "../diagnostics.js";
import { BUILTIN_TOOLS, type Workstream } from "./model.js";
import { locateNearest, type PositionedSource } from "./parse-source.js";
import type { RawWorkstream } from "./raw-types.js";
import { pathLabel } from "./schema.js";
import { didYouMean } from "./suggest.js";

/**
 * Rules the schema cannot express: the tool a step names must exist, and a step must carry what
 * its tool needs (a shell step a `run` command, an agent step a prompt and no `run`). Graph
 * rules (dependencies, cycles, file-scope conflicts) live in src/graph/check.ts.
 */

const AGENT_PROMPT_PLACEHOLDERS = ["{prompt}", "{prompt_file}"];

type Report = (path: DocPath, message: string, fix?: string, part?: "key" | "value") => void;

/** A compensation undoes a step that passed: it needs a known tool and what that tool needs. */
function checkCompensation(step: Workstream["steps"][number], i: number, isKnown: (tool: string) => boolean, error: Report): void {
  const c = step.compensate;
  if (!c) return;
  const at: DocPath = ["steps", i, "compensate"];
  const name = `step "${step.id}"`;
  // A success_or_skipped join follows work that passed, like a plain step, so it may have one.
  if (step.runIf === "always" || step.runIf === "failure") {
    // It runs because others failed: there is no work of its own in the run's result to undo.
    error(at, `${name} runs with run_if "${step.runIf}", so it cannot have a compensation`, `remove "compensate", or undo its work in a later run_if "always" step`, "key");
    return;
  }
  if (!isKnown(c.tool)) return error([...at, "tool"], `unknown tool "${c.tool}" in the compensation of ${name}`, `use "shell" with "run", or an agent tool with "tasks"`);
  if (c.tool === "shell" && c.run === undefined) error(at, `the compensation of ${name} runs the shell but has no "run" command`, `add "run": "<command that undoes the step>"`);
  if (c.tool !== "shell" && c.run !== undefined) error([...at, "run"], `the compensation of ${name} uses the ${c.tool} tool, which takes "tasks", not "run"`, `set "tool": "shell", or put the instructions in "tasks"`, "key");
  if (c.tool !== "shell" && c.tasks.length === 0) error(at, `the compensation of ${name} uses the ${c.tool} tool but has no "tasks"`, `add "tasks": ["undo ..."]`);
}

/** A GitHub step runs a command or an action: GitHub refuses a step with both or neither. */
function checkCiSetup(raw: RawWorkstream, error: Report): void {
  const setup = raw.ci?.setup;
  if (!Array.isArray(setup)) return;
  setup.forEach((s, k) => {
    const has = ["run", "uses"].filter((key) => s[key] !== undefined);
    if (has.length === 1) return;
    const at: DocPath = ["ci", "setup", k];
    if (has.length === 0) error(at, `ci.setup step ${k + 1} has neither "run" nor "uses": GitHub Actions would refuse the workflow`, `add "run": "<command>" or "uses": "owner/action@version"`);
    else error([...at, "uses"], `ci.setup step ${k + 1} has both "run" and "uses": a GitHub Actions step is one or the other`, `split it into two steps`, "key");
  });
}

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

  ws.stepGroups.forEach((group, k) => {
    if (group.cancelRest && group.succeed !== "any") {
      error(["step_groups", k, "cancel_rest"], `step group "${group.id}" has cancel_rest but succeeds only when all its steps pass: nobody can win a race`, 'add "succeed": "any", or remove cancel_rest', "key");
    }
  });

  ws.steps.forEach((step, i) => checkCompensation(step, i, isKnown, error));
  checkCiSetup(raw, error);

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

/**
 * A NUL byte (`\u0000` in JSON, `\0` in YAML) in any string or key: no command line, environment
 * or file name can carry one, and a tool would only fail at spawn time (or, before the spawn
 * checked for it, hang the run). Every string is looked at, whether or not the schema passed:
 * which fields reach a process changes with the tool and the interpolations, a NUL helps none.
 */
export function checkNulBytes(doc: unknown, source: PositionedSource): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (at: DocPath, part: "key" | "value") => {
    const whole = locateNearest(source, at, part);
    const escape = whole && nulEscapeIn(source.text, whole.offset, whole.offset + whole.length);
    out.push({
      severity: "error",
      code: "nul-byte",
      message: `${part === "key" ? `the key ${JSON.stringify(String(at.at(-1)))} in ` : ""}${pathLabel(part === "key" ? at.slice(0, -1) : at) || "the document"} holds a NUL byte, which no command line or environment can carry`,
      file: source.path,
      location: escape ? source.position(escape.offset, escape.length) : whole,
      fix: "remove the NUL byte (a \\u0000 or \\0 escape)",
    });
  };
  // A stack, not recursion, and each entry links to its parent rather than holding its path:
  // a document nested 100 000 deep must cost neither the call stack nor a path copy per level.
  interface Entry {
    value: unknown;
    key: string | number | undefined;
    parent: Entry | undefined;
  }
  const pathOf = (entry: Entry | undefined): DocPath => {
    const at: Array<string | number> = [];
    for (let e = entry; e?.key !== undefined; e = e.parent) at.push(e.key);
    return at.reverse();
  };
  const stack: Entry[] = [{ value: doc, key: undefined, parent: undefined }];
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const { value } = entry;
    if (typeof value === "string") {
      if (value.includes("\0")) report(pathOf(entry), "value");
    } else if (Array.isArray(value)) {
      value.forEach((item: unknown, i) => stack.push({ value: item, key: i, parent: entry }));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes("\0")) report([...pathOf(entry), key], "key");
        stack.push({ value: item, key, parent: entry });
      }
    }
  }
  return out;
}

/** The first escape in `text[from, to)` that stands for a NUL (JSON `\u0000`; YAML `\0`, `\x00`, `\U00000000`). */
function nulEscapeIn(text: string, from: number, to: number): { offset: number; length: number } | undefined {
  for (let i = from; i < to - 1; i++) {
    if (text[i] !== "\\") continue;
    const next = text[i + 1];
    const digits = next === "u" ? 4 : next === "x" ? 2 : next === "U" ? 8 : 0;
    const length = next === "0" ? 2 : 2 + digits;
    if ((next === "0" || digits > 0) && /^0+$/.test(text.slice(i + 2, i + length) || "0")) return { offset: i, length };
    i++; // an escaped character, whatever it is, is not the start of another escape
  }
  return undefined;
}
