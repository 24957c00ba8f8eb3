import path from "node:path";
import { packageRoot } from "../package-root.js";

/** Where the schema ships: `<package>/schemas/`. */
export const SCHEMA_PATH = path.join(packageRoot(), "schemas", "workstream.schema.json");
