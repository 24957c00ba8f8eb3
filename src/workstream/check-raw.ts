import type { Diagnostic } from "../diagnostics.js";
import { interpolate } from "./interpolate.js";
import { interpolationError } from "./normalize.js";
import type { PositionedSource } from "./parse-source.js";

/**
 * The checks that still make sense on a document that failed the schema: duplicate step ids and
 * bad `when` expressions. Without them a user fixes the schema errors, runs validate again and
 * only then meets these (the README promises every error of a file in one run). Only values of
 * the right type are looked at, so nothing here repeats a schema error.
 */
export function checkRawDocument(doc: Record<string, unknown>, source: PositionedSource, env: NodeJS.ProcessEnv): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!Array.isArray(doc.steps)) return out;
  const firstAt = new Map<string, number>();
  doc.steps.forEach((step: unknown, i) => {
    if (step === null || typeof step !== "object" || Array.isArray(step)) return;
    const { id, when } = step as Record<string, unknown>;
    if (typeof id === "string") {
      const first = firstAt.get(id);
      if (first === undefined) firstAt.set(id, i);
      else {
        out.push({
          severity: "error",
          code: "duplicate-id",
          message: `duplicate step id "${id}"`,
          file: source.path,
          location: source.locate(["steps", i, "id"]),
          fix: "give every step a unique id",
          related: [{ message: `"${id}" is first defined here`, location: source.locate(["steps", first, "id"]) }],
        });
      }
    }
    if (typeof when === "string") {
      const result = interpolate(when, env, { condition: true });
      if (!result.ok) out.push(interpolationError({ source, env, file: source.path, hash: "" }, ["steps", i, "when"], when, result));
    }
  });
  return out;
}
