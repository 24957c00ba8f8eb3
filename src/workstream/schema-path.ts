import { fileURLToPath } from "node:url";

/** Where the schema ships: `<package>/schemas/`, two levels above both src/workstream and dist/workstream. */
export const SCHEMA_PATH = fileURLToPath(new URL("../../schemas/workstream.schema.json", import.meta.url));
