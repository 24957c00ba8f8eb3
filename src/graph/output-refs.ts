import type { Diagnostic, DocPath, SourceFile, SourceLocation } from "../diagnostics.js";
import type { Workstream } from "../workstream/model.js";
import { buildGraph, groupMembers } from "./graph.js";
import { reachability, type Reachability } from "./reachability.js";
import { outputRefs } from "../workstream/interpolate.js";
import { didYouMean } from "../workstream/suggest.js";

/**
 * `${steps.<id>.outputs.<key>}` references: the step (or step group) must exist and be an
 * ancestor of the step that reads it, or its outputs would not exist yet when it starts. Each
 * error points at the reference itself, inside its string.
 */
export function checkOutputRefs(ws: Workstream, source: SourceFile | undefined): Diagnostic[] {
  const g = buildGraph(ws);
  const groups = groupMembers(ws, g.index);
  // Built at the first reference: most workstreams have none, and the bitsets are n²/8 bytes.
  let reach: Reachability | undefined;
  const out: Diagnostic[] = [];
  const file = source?.path ?? ws.file;

  ws.steps.forEach((step, node) => {
    // Every reference, good or malformed, starts "${steps.": most texts have none, so only those
    // with one get a path (at 50 000 steps the paths of all texts were 50 000 arrays for nothing).
    const texts: Array<{ path: DocPath; text: string; condition?: boolean }> = [];
    const base: DocPath = ["steps", step.index];
    if (step.run?.includes("${")) texts.push({ path: [...base, "run"], text: step.run });
    step.tasks.forEach((text, k) => text.includes("${") && texts.push({ path: [...base, "tasks", k], text }));
    for (const [name, text] of Object.entries(step.env)) if (text.includes("${")) texts.push({ path: [...base, "env", name], text });
    step.acceptanceTests.forEach((t, k) => t.run.includes("${") && texts.push({ path: [...base, "acceptance_tests", k], text: t.run }));
    if (step.when?.source.includes("${")) texts.push({ path: [...base, "when"], text: step.when.source, condition: true });
    for (const { path, text, condition } of texts) {
      for (const malformed of malformedRefs(text, condition)) {
        out.push({
          severity: "error",
          code: "output-reference",
          message: `step "${step.id}": "${malformed.text}" is not an output reference`,
          file,
          location: locateIn(source, path, malformed.text),
          fix: "write ${steps.<step id>.outputs.<key>}",
        });
      }
      for (const ref of outputRefs(text, condition)) {
        const refText = text.slice(ref.offset, ref.offset + ref.length);
        const nodes = g.index.has(ref.step) ? [g.index.get(ref.step)!] : groups.get(ref.step);
        const location = locateIn(source, path, refText);
        if (nodes === undefined) {
          out.push({
            severity: "error",
            code: "output-reference",
            message: `step "${step.id}" reads the outputs of unknown step "${ref.step}"`,
            file,
            location,
            fix: didYouMean(ref.step, [...g.ids, ...groups.keys()]) ?? `name a step or step group of ${ws.id}`,
          });
          continue;
        }
        reach ??= reachability(g);
        const ordering = reach;
        if (nodes.every((d) => d !== node && ordering.reaches(d, node))) continue;
        out.push({
          severity: "error",
          code: "output-reference",
          message: `step "${step.id}" reads ${refText}, but "${ref.step}" is not one of its dependencies, so it may not have run yet`,
          file,
          location,
          fix: `add "${ref.step}" to the depends_on of "${step.id}"`,
        });
      }
    }
  });
  return out;
}

/** `${steps.` that does not continue as a well-formed reference (a typo the shell would otherwise see). */
function malformedRefs(text: string, condition = false): Array<{ text: string }> {
  const found: Array<{ text: string }> = [];
  const good = new Set(outputRefs(text, condition).map((r) => r.offset));
  for (let at = text.indexOf("${steps."); at !== -1; at = text.indexOf("${steps.", at + 1)) {
    if (good.has(at)) continue;
    const end = text.indexOf("}", at);
    found.push({ text: text.slice(at, end === -1 ? undefined : end + 1) });
  }
  return found;
}

/** The reference's own position when it appears verbatim in the file, else the whole value. */
function locateIn(source: SourceFile | undefined, path: DocPath, needle: string): SourceLocation | undefined {
  const whole = source?.locate(path);
  if (!source || !whole) return whole;
  const at = source.text.slice(whole.offset, whole.offset + whole.length).indexOf(needle);
  if (at < 0) return whole;
  const before = source.text.slice(0, whole.offset + at);
  const line = before.split("\n").length;
  return { line, col: whole.offset + at - before.lastIndexOf("\n"), offset: whole.offset + at, length: needle.length };
}
