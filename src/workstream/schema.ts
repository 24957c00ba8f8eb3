import { createRequire } from "node:module";
import type { Ajv2020, AnySchemaObject, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { Diagnostic, DocPath, SourceFile } from "../diagnostics.js";
import { locateNearest } from "./parse-source.js";
import { readSchemaText, schemaAjv, SCHEMA_ENTRIES, SCHEMA_KEY } from "./schema-compile.js";
import { didYouMean } from "./suggest.js";

/**
 * Checks a parsed workstream against schemas/workstream.schema.json and turns ajv's errors into
 * diagnostics a person can act on: one per problem, at the offending key or value, with a
 * did-you-mean for typos. ajv reports every failed branch of an `anyOf`; we keep the branch that
 * matches the value's type, or say what was expected when none does.
 */


let compiled: { ajv: Ajv2020; schema: AnySchemaObject } | undefined;
let rootSchema: AnySchemaObject | undefined;
let prebuilt: Record<string, ValidateFunction | undefined> | undefined;

/** The schema itself, for explaining errors (read only when there is one to explain). */
function schemaObject(): AnySchemaObject {
  return (rootSchema ??= compiled?.schema ?? (JSON.parse(readSchemaText()) as AnySchemaObject));
}

function compiler(): { ajv: Ajv2020; schema: AnySchemaObject } {
  return (compiled ??= { ajv: schemaAjv(schemaObject()), schema: schemaObject() });
}

/**
 * The validators `npm run build` generated (dist/workstream/schema-validators.cjs), when they were
 * made from this very schema text; none when running from src/ (tests) or after the schema changed.
 */
function generated(): Record<string, ValidateFunction | undefined> {
  if (prebuilt) return prebuilt;
  prebuilt = {};
  try {
    const mod = createRequire(import.meta.url)("./schema-validators.cjs") as Record<string, unknown>;
    if (mod.schemaText === readSchemaText()) prebuilt = mod as Record<string, ValidateFunction | undefined>;
  } catch {
    // Not built: compile instead.
  }
  return prebuilt;
}

/** The validator of a JSON pointer into the schema (`#`, `#/$defs/seconds`...). */
function validator(pointer: string): ValidateFunction {
  const ready = generated()[pointer];
  if (ready) return ready;
  const found = compiler().ajv.getSchema(`${SCHEMA_KEY}${pointer}`);
  if (!found) throw new Error(`schema has no ${pointer}`);
  return found;
}

type SchemaPart = "workstream" | "resolvedExecution";

/** An issue found by the schema, before it is placed in a file. */
interface SchemaIssue {
  path: DocPath;
  part: "key" | "value";
  code: string;
  message: string;
  fix?: string | undefined;
}

/** Validates `data` (the whole document, or the resolved `execution` object) against the schema. */
export function schemaIssues(part: SchemaPart, data: unknown, basePath: DocPath = []): SchemaIssue[] {
  const validate = validator(SCHEMA_ENTRIES[part]);
  if (validate(data)) return [];
  return issuesFrom(validate.errors ?? [], data, basePath);
}

export function schemaDiagnostics(data: unknown, source: SourceFile, file: string): Diagnostic[] {
  return schemaIssues("workstream", data).map((issue) => issueToDiagnostic(issue, source, file));
}

export function issueToDiagnostic(issue: SchemaIssue, source: SourceFile, file: string): Diagnostic {
  return {
    severity: "error",
    code: issue.code,
    message: issue.message,
    file,
    location: locateNearest(source, issue.path, issue.part),
    fix: issue.fix,
  };
}

/** `steps[2].depends_on`, for messages. */
export function pathLabel(path: DocPath): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : /^[A-Za-z_$][\w$]*$/.test(seg) ? (out ? `.${seg}` : seg) : `[${JSON.stringify(seg)}]`;
  return out;
}

function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function valueAt(data: unknown, path: DocPath): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

const TYPE_NAMES: Record<string, string> = {
  integer: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list ([...])",
  object: "an object ({...})",
  null: "null",
};

function typeName(t: unknown): string {
  const types = Array.isArray(t) ? t : [t];
  return types.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(" or ");
}

function describeValue(value: unknown): string {
  const t = jsonType(value);
  if (t === "string" || t === "integer" || t === "number" || t === "boolean") return `${t === "integer" ? "number" : t} ${JSON.stringify(value)}`;
  return t === "array" ? "a list" : t === "object" ? "an object" : t;
}

function defOf(ref: unknown): AnySchemaObject | undefined {
  if (typeof ref !== "string" || !ref.startsWith("#/$defs/")) return undefined;
  const defs = schemaObject().$defs as Record<string, AnySchemaObject> | undefined;
  return defs?.[ref.slice("#/$defs/".length)];
}

/** The JSON types a branch accepts (from `type`, `const` or `enum`). */
function branchTypes(branch: AnySchemaObject): string[] {
  const schema = defOf(branch.$ref) ?? branch;
  if (schema.type !== undefined) return (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
  if ("const" in schema) return [jsonType(schema.const)];
  if (Array.isArray(schema.enum)) return [...new Set(schema.enum.map(jsonType))];
  if (schema.anyOf) return (schema.anyOf as AnySchemaObject[]).flatMap(branchTypes);
  return [];
}

function branchValues(branch: AnySchemaObject): string[] {
  const schema = defOf(branch.$ref) ?? branch;
  if (typeof schema.const === "string") return [schema.const];
  if (Array.isArray(schema.enum)) return schema.enum.filter((v): v is string => typeof v === "string");
  if (schema.anyOf) return (schema.anyOf as AnySchemaObject[]).flatMap(branchValues);
  return [];
}

function accepts(types: string[], valueType: string): boolean {
  if (types.includes(valueType)) return true;
  // A fractional number for an integer field is best explained by the integer branch.
  return (valueType === "integer" && types.includes("number")) || (valueType === "number" && types.includes("integer"));
}

function isUnder(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(parent + "/");
}

function issuesFrom(errors: ErrorObject[], data: unknown, basePath: DocPath): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const consumed = new Set<number>();
  // Outermost anyOf last in ajv's list: walk backwards so it claims its branches' errors first.
  for (let idx = errors.length - 1; idx >= 0; idx--) {
    const e = errors[idx];
    if (!e || consumed.has(idx) || (e.keyword !== "anyOf" && e.keyword !== "oneOf")) continue;
    consumed.add(idx);
    for (let j = idx - 1; j >= 0 && isUnder(errors[j]?.instancePath ?? "", e.instancePath); j--) consumed.add(j);
    issues.push(...anyOfIssues(e, data, basePath));
  }
  errors.forEach((e, idx) => {
    if (consumed.has(idx) || e.keyword === "propertyNames") return;
    issues.push(simpleIssue(e, data, basePath));
  });
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.path, issue.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function anyOfIssues(e: ErrorObject, data: unknown, basePath: DocPath): SchemaIssue[] {
  const local = pointerToPath(e.instancePath);
  const path = [...basePath, ...local];
  const value = valueAt(data, local);
  const parent = (e.parentSchema ?? {}) as AnySchemaObject;
  const branches = ((parent.anyOf ?? parent.oneOf ?? []) as AnySchemaObject[]);
  const matching = branches.filter((b) => accepts(branchTypes(b), jsonType(value)));
  const only = matching[0];
  const onlyDef = only ? (defOf(only.$ref) ?? only) : undefined;
  // A const, enum or pattern branch is better explained by the field's x-expected wording
  // ("must be true, false or an ${env...} expression") than by its own rule.
  const explainsItself = onlyDef !== undefined && !("const" in onlyDef) && !onlyDef.enum && !onlyDef.pattern;
  if (matching.length === 1 && only && typeof only.$ref === "string" && explainsItself) {
    const validate = validator(only.$ref);
    if (!validate(value)) return issuesFrom(validate.errors ?? [], value, path);
  }
  const expected = typeof parent["x-expected"] === "string" ? parent["x-expected"] : "a valid value";
  const options = branches.flatMap(branchValues);
  return [
    {
      path,
      part: "value",
      code: "schema",
      message: `${pathLabel(path) || "the workstream"} must be ${expected}, found ${describeValue(value)}`,
      fix: typeof value === "string" ? didYouMean(value, options) : undefined,
    },
  ];
}

function simpleIssue(e: ErrorObject, data: unknown, basePath: DocPath): SchemaIssue {
  const local = pointerToPath(e.instancePath);
  const path = [...basePath, ...local];
  const label = pathLabel(path) || "the workstream";
  const value = valueAt(data, local);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as AnySchemaObject;
  const expected = typeof parent["x-expected"] === "string" ? parent["x-expected"] : undefined;
  const at = (message: string, fix?: string, code = "schema"): SchemaIssue => ({ path, part: "value", code, message, fix });

  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as object);
      return {
        path: [...path, key],
        part: "key",
        code: "unknown-key",
        message: `unknown key "${key}"${path.length ? ` in ${label}` : ""}`,
        fix: didYouMean(key, known) ?? (known.length ? `allowed keys: ${known.filter((k) => !k.startsWith("$")).join(", ")}` : undefined),
      };
    }
    case "required":
      return at(`${label} is missing the required key "${String(params.missingProperty)}"`, undefined, "missing-key");
    case "type":
      return at(`${label} must be ${typeName(params.type)}, found ${describeValue(value)}`);
    case "enum": {
      const allowed = (params.allowedValues as unknown[]) ?? [];
      return at(`${label} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}, found ${describeValue(value)}`,
        typeof value === "string" ? didYouMean(value, allowed.map(String)) : undefined);
    }
    case "const":
      return at(`${label} must be ${JSON.stringify(params.allowedValue)}, found ${describeValue(value)}`);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return at(`${label} must be ${String(params.comparison)} ${String(params.limit)}, found ${describeValue(value)}`);
    case "minLength":
      return at(params.limit === 1 ? `${label} must not be empty` : `${label} must be at least ${String(params.limit)} characters long`);
    case "maxLength":
      return at(`${label} must be at most ${String(params.limit)} characters long`);
    case "minItems":
      return at(`${label} must have at least ${String(params.limit)} item${params.limit === 1 ? "" : "s"}`);
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      return { path: [...path, later], part: "value", code: "schema", message: `${label} lists ${JSON.stringify(valueAt(value, [later]))} twice`, fix: "remove the duplicate" };
    }
    case "pattern": {
      if (e.propertyName !== undefined) {
        return {
          path: [...path, e.propertyName],
          part: "key",
          code: "schema",
          message: `invalid name ${JSON.stringify(e.propertyName)} in ${label}: must be ${expected ?? `like ${String(params.pattern)}`}`,
        };
      }
      return at(`${label} must be ${expected ?? `a string matching ${String(params.pattern)}`}, found ${describeValue(value)}`);
    }
    default:
      return at(`${label} ${e.message ?? "is invalid"}`);
  }
}
