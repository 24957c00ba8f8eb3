// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layers of src/ (README, Architecture): the CLI on top; under it the engine; under that
 * graph, then workstream; beside them the store, the reports and pictures, the exporters, and the
 * process, git and tool adapters; format/ and scope/ are leaves. For each folder, the folders it
 * must not import (statically or with `await import()`): what both sides need moves down a layer.
 */
const ALL = ["cli", "engine", "graph", "workstream", "render", "report", "export", "store", "tools", "proc", "git", "events", "format", "scope"];
const RUN_AND_CLI = ["cli", "engine"];
const FORBIDDEN = {
  engine: ["cli", "render", "report", "export"],
  graph: ["cli", "engine", "render", "report", "export", "store", "tools", "proc", "git"],
  workstream: ["cli", "engine", "graph", "render", "report", "export", "store", "tools", "proc", "git"],
  render: RUN_AND_CLI,
  report: RUN_AND_CLI,
  export: RUN_AND_CLI,
  store: RUN_AND_CLI,
  tools: RUN_AND_CLI,
  proc: RUN_AND_CLI,
  git: RUN_AND_CLI,
  events: ["cli", "engine", "render", "report", "export"],
  format: ALL.filter((f) => f !== "format" && f !== "events"),
  scope: ALL.filter((f) => f !== "scope"),
};

/** The rules that keep `folder` from importing `forbidden`: src/ is one level deep, so an import of another folder is "../<folder>/…". */
function layerRules(folder, forbidden) {
  const message = `src/${folder}/ may not import src/{${forbidden.join(",")}}/ (README: Architecture): move what both need to a lower layer`;
  const dynamic = `ImportExpression[source.value=/^\\.\\.\\/(${forbidden.join("|")})\\//]`;
  return {
    "no-restricted-imports": ["error", { patterns: [{ group: forbidden.map((f) => `../${f}/*`), message }] }],
    "no-restricted-syntax": ["error", { selector: dynamic, message }],
  };
}

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".worktrees/", "coverage/", "test/fixtures/**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly", URL: "readonly", Buffer: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  ...Object.entries(FORBIDDEN).map(([folder, forbidden]) => ({ files: [`src/${folder}/**`], rules: layerRules(folder, forbidden) })),
  {
    // Loading runs the graph checks, so `ws validate` reports every error of a file in one pass:
    // the one place workstream/ reaches up into graph/.
    files: ["src/workstream/load.ts"],
    rules: layerRules("workstream", FORBIDDEN.workstream.filter((f) => f !== "graph")),
  },
  {
    // The launcher is CommonJS (bin/package.json), as the bundle it loads.
    files: ["bin/**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Only the CLI layer, launchers, fixtures and benchmarks talk to the terminal.
    files: ["src/cli/**", "bin/**", "test/**", "bench/**"],
    rules: { "no-console": "off" },
  },
);
