import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "ws-store-"));
}

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * Plain-JS copies of some src modules (same relative layout, so their `.js` imports resolve), for
 * child processes that must run our code: node cannot load .ts, and the tests must not depend on
 * someone having built dist/.
 */
export function transpileForChild(outDir: string, modules: string[]): void {
  for (const module of modules) {
    const source = fs.readFileSync(path.join(SRC, module), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const out = path.join(outDir, module.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
  }
  fs.writeFileSync(path.join(outDir, "package.json"), '{ "type": "module" }\n');
}
