// Part of `npm run build`, after tsc: generates dist/workstream/schema-validators.cjs with ajv's
// standalone code, so no ws command compiles the JSON Schema at run time (compiling it was
// 150-300 ms of every `ws run` and `ws validate`; bench/NOTES.md). src/workstream/schema.ts
// falls back to compiling when the file is missing or made from another schema text.
import fs from "node:fs";
import path from "node:path";
import standaloneCode from "ajv/dist/standalone/index.js";
import { readSchemaText, schemaAjv, SCHEMA_ENTRIES, SCHEMA_KEY } from "../dist/workstream/schema-compile.js";

const text = readSchemaText();
const ajv = schemaAjv(JSON.parse(text), true);
// Every $defs entry too: explaining an anyOf error validates the value against one branch.
const pointers = [...Object.values(SCHEMA_ENTRIES), ...Object.keys(JSON.parse(text).$defs ?? {}).map((name) => `#/$defs/${name}`)];
const refs = Object.fromEntries(pointers.map((pointer) => [pointer, `${SCHEMA_KEY}${pointer}`]));
const code = standaloneCode.default(ajv, refs);
const out = path.join(import.meta.dirname, "..", "dist", "workstream", "schema-validators.cjs");
// The schema text itself, not a hash of it: a run compares the two strings (microseconds) where
// a hash loaded node:crypto (~10 ms and 1 MB of a start; bench/NOTES.md, issue 32).
fs.writeFileSync(out, `${code}\nmodule.exports.schemaText = ${JSON.stringify(text)};\n`);
