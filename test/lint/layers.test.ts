import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// The layer rule of eslint.config.js, asked about imports that break it and imports that don't:
// a typo in its patterns would otherwise let every import through without a word.

const eslint = new ESLint({ cwd: fileURLToPath(new URL("../../", import.meta.url)) });

/** What the layer rule says (the imported names are unused here, which other rules report). */
async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId?.startsWith("no-restricted-")).map((m) => `${m.ruleId}: ${m.message}`);
}

describe("eslint: the layers of src/", () => {
  it.each([
    ["src/graph/x.ts", 'import { outputRefs } from "../engine/outputs.js";'],
    ["src/workstream/x.ts", 'import { checkGraph } from "../graph/check.js";'],
    ["src/render/x.ts", 'import type { Plan } from "../engine/plan.js";'],
    ["src/store/x.ts", 'import { main } from "../cli/main.js";'],
    ["src/engine/x.ts", 'import { formatEventLine } from "../report/event-line.js";'],
    ["src/export/x.ts", 'export const load = () => import("../engine/plan.js");'],
  ])("%s may not: %s", async (file, code) => {
    expect(await problems(file, `${code}\nexport {};\n`)).toEqual([expect.stringMatching(/^no-restricted-(imports|syntax): (.* by a pattern\. )?src\/\w+\/ may not import src\/\{[a-z,]+\}\/ \(README: Architecture\)/)]);
  });

  it.each([
    ["src/engine/x.ts", 'import { checkGraph } from "../graph/check.js";'],
    ["src/graph/x.ts", 'import type { Workstream } from "../workstream/model.js";'],
    ["src/render/x.ts", 'import { readHistory } from "../store/history.js";'],
    ["src/cli/x.ts", 'export const load = () => import("../engine/plan.js");'],
    ["src/workstream/load.ts", 'import { checkGraph } from "../graph/check.js";'],
  ])("%s may: %s", async (file, code) => {
    expect(await problems(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});
