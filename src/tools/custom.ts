import type { CustomTool } from "../workstream/model.js";
import { agentEnv, commandFor, modelFor } from "./agent-env.js";
import { writePromptFile } from "./prompt.js";
import type { ToolAdapter, ToolContext } from "./types.js";
import { ErrorEvidence, describeExit, exitedZero, ok } from "./verdict.js";
import { oneLine, type Activity } from "./activity.js";

const LIST = /\{(files|read_only)\}/;
const SCALAR = /\{(prompt|prompt_file|model|cwd)\}/g;

/**
 * Expands a custom tool's argument templates. `{files}` / `{read_only}` give one argv element per
 * entry (none when empty), also inside a larger string (`--file={files}` → `--file=a`, `--file=b`).
 * `{prompt}`, `{prompt_file}`, `{model}`, `{cwd}` are substituted in place, in one pass, so text
 * inserted (a prompt mentioning `{files}`) is never expanded again. With no model, an element
 * naming `{model}` is dropped whole, so `--model={model}` disappears cleanly. Unknown
 * placeholders are left as written (the validator reports them).
 */
export function expandArgs(
  templates: string[],
  values: { prompt: string; promptFile: string; model: string | undefined; cwd: string; files: string[]; readOnly: string[] },
): string[] {
  const scalar = (template: string): string =>
    template.replace(SCALAR, (_match, name: string) => {
      switch (name) {
        case "prompt":
          return values.prompt;
        case "prompt_file":
          return values.promptFile;
        case "model":
          return values.model ?? "";
        default:
          return values.cwd;
      }
    });
  const out: string[] = [];
  for (const template of templates) {
    if (values.model === undefined && template.includes("{model}")) continue;
    const list = LIST.exec(template);
    if (!list) {
      out.push(scalar(template));
      continue;
    }
    const entries = list[1] === "files" ? values.files : values.readOnly;
    const [head, tail] = [template.slice(0, list.index), template.slice(list.index + list[0].length)];
    // Only the first list placeholder of an element fans out; the scalars around it still apply.
    for (const entry of entries) out.push(scalar(head) + entry + scalar(tail));
  }
  return out;
}

export function customAdapter(name: string, tool: CustomTool): ToolAdapter {
  return {
    name,
    async prepare(ctx: ToolContext) {
      const prompt = await writePromptFile(ctx);
      const args = expandArgs(tool.args, {
        prompt: prompt.text,
        promptFile: prompt.file,
        model: modelFor(ctx),
        cwd: ctx.cwd,
        files: ctx.step.fileScope,
        readOnly: ctx.step.readOnly,
      });
      return { command: commandFor(ctx, name, tool.command), args, env: agentEnv(ctx, tool.env) };
    },
    parser(ctx: ToolContext) {
      // Its output format is unknown, so every line is evidence; it only matters on failure.
      const evidence = new ErrorEvidence(`check the credentials ${name} uses`, ctx.now);
      // Nothing but its output says what it does: its last non-blank line is its activity.
      let last: Activity | undefined;
      return {
        onLine(line) {
          evidence.add(line);
          const text = oneLine(line);
          if (text !== "") last = { kind: "output", text };
        },
        takeActivity() {
          const taken = last;
          last = undefined;
          return taken && [taken];
        },
        finish(exit) {
          if (exitedZero(exit)) return ok();
          const last = evidence.last;
          const verdict = evidence.fail(`${name} ${describeExit(exit)}${last ? `: ${last}` : ""}`);
          // A network verdict makes the tool unusable for the run. Here it would be a guess from
          // any line of an unknown format (an ECONNREFUSED in the output of tests it ran), so it
          // stays an error: retried as `retries` says, counted by the breaker.
          return verdict.kind === "network" ? { kind: "error", message: verdict.message } : verdict;
        },
      };
    },
  };
}
