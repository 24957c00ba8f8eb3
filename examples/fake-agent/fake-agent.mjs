#!/usr/bin/env node
// A scripted stand-in for a coding agent, so that `ws run --ws-id ws-agents-demo` works with no
// API key. It is deterministic: for each file it is given it writes the recipe below. A recipe
// with a `draft` gets the draft on a first try (a plausible, slightly wrong version) and its
// `final` once the prompt carries the failing acceptance output of a previous attempt.
//
//   node examples/fake-agent/fake-agent.mjs --prompt-file FILE [--model M] FILE_TO_WRITE...
import fs from "node:fs";
import path from "node:path";

const RECIPES = {
  "demo/agents/slugify.mjs": {
    final: `/** "Hello, World!" -> "hello-world" */
export function slugify(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
`,
  },
  "demo/agents/word-count.mjs": {
    // Splits on single spaces: runs of spaces and leading/trailing ones count as words.
    draft: `/** The number of words in text. */
export function wordCount(text) {
  return text.split(" ").length;
}
`,
    final: `/** The number of words in text: runs of whitespace separate words. */
export function wordCount(text) {
  const words = text.trim().split(/\\s+/);
  return words[0] === "" ? 0 : words.length;
}
`,
  },
  "demo/agents/title-card.mjs": {
    final: `import { slugify } from "./slugify.mjs";
import { wordCount } from "./word-count.mjs";

/** "Hello  big world" -> "hello-big-world (3 words)" */
export function titleCard(title) {
  const n = wordCount(title);
  return \`\${slugify(title)} (\${n} \${n === 1 ? "word" : "words"})\`;
}
`,
  },
};

function parseArgs(argv) {
  const files = [];
  let promptFile;
  let model;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--prompt-file") promptFile = argv[++i];
    else if (arg === "--model") model = argv[++i];
    else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else files.push(arg);
  }
  if (!promptFile) throw new Error("--prompt-file is required");
  return { promptFile, model, files };
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fake-agent: ${error.message}\nusage: fake-agent --prompt-file FILE [--model M] FILE...\n`);
    return 2;
  }
  const prompt = fs.readFileSync(args.promptFile, "utf8");
  // The orchestrator's retry prompt carries this section with the failing test output.
  const retry = prompt.includes("## Previous attempt failed");
  const say = (line) => process.stdout.write(`fake-agent: ${line}\n`);
  say(`read ${prompt.length} characters of instructions${args.model ? ` for model ${args.model}` : ""}`);
  if (retry) say("the previous attempt failed its acceptance tests; reading the failure and fixing it");
  for (const file of args.files) {
    const recipe = RECIPES[file];
    if (!recipe) {
      process.stderr.write(`fake-agent: no recipe for ${file}\n`);
      return 1;
    }
    const draft = !retry && recipe.draft !== undefined;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, draft ? recipe.draft : recipe.final);
    say(`wrote ${file}${draft ? " (first try)" : ""}`);
  }
  say("done");
  return 0;
}

process.exitCode = main();
