import fs from "node:fs";
import { createRequire } from "node:module";
import type { Ajv2020, AnySchemaObject } from "ajv/dist/2020.js";
import { SCHEMA_PATH } from "./schema-path.js";

/** The schema's id inside ajv; validators are `${SCHEMA_KEY}#...`. */
export const SCHEMA_KEY = "workstream";

/** The two entry points the loader validates against. */
export const SCHEMA_ENTRIES = { workstream: "#", resolvedExecution: "#/$defs/resolvedExecution" } as const;

export function readSchemaText(): string {
  return fs.readFileSync(SCHEMA_PATH, "utf8");
}

/**
 * One ajv set-up for both uses: compiling at run time (tests run from src/) and generating the
 * standalone validator at build time (scripts/build-validator.mjs), so both check alike.
 */
export function schemaAjv(schema: AnySchemaObject, standalone = false): Ajv2020 {
  // Required on demand (ajv is CommonJS): a built ws never gets here, its validators are generated.
  const { Ajv2020: Ajv } = createRequire(import.meta.url)("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    allowUnionTypes: true,
    ...(standalone ? { code: { source: true } } : {}),
  });
  // Our own annotation: the human wording of what a value must be.
  ajv.addKeyword({ keyword: "x-expected", schemaType: "string" });
  ajv.addSchema(schema, SCHEMA_KEY);
  return ajv;
}
