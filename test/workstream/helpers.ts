import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadWorkstream, type LoadResult } from "../../src/workstream/load.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/workstream/", import.meta.url));

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "ws-loader-"));
}

/** Writes `content` (an object is written as JSON) to `<tmp>/<name>` and loads it. */
export async function loadText(name: string, content: string | object, env: NodeJS.ProcessEnv = {}): Promise<LoadResult> {
  const dir = tempDir();
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return loadWorkstream(file, { cwd: dir, env });
}

export function errors(result: LoadResult) {
  return result.diagnostics.filter((d) => d.severity === "error");
}
