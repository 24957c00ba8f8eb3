import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../fixtures/proc/", import.meta.url));
export const fixture = (name: string) => path.join(FIXTURES, name);

export { isGone, waitGone } from "../helpers/processes.js";

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "ws-proc-"));
}

export async function waitFor<T>(probe: () => T | undefined, limitMs = 20_000): Promise<T> {
  for (let waited = 0; waited < limitMs; waited += 25) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("waitFor: gave up");
}
