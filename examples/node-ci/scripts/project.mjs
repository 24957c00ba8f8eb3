// What the check scripts share: the project's JavaScript files, and how a script says what it
// found to ws. Under ws each step gets WS_OUTPUT, a file of key=value lines its dependents can
// read (`${steps.lint.outputs.summary}`); run by hand (`npm run lint`) there is none.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Every .js/.mjs file under src/, test/ and scripts/, sorted, relative to the project. */
export function sourceFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.m?js$/.test(entry.name)) files.push(rel);
    }
  };
  for (const dir of ["src", "test", "scripts"]) walk(dir);
  return files.sort();
}

/** Prints the one-line summary and, under ws, hands it on as the step's `summary` output. */
export function summary(text) {
  process.stdout.write(`${text}\n`);
  if (process.env.WS_OUTPUT) fs.appendFileSync(process.env.WS_OUTPUT, `summary=${text}\n`);
}
