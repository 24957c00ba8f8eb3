#!/usr/bin/env node
// A scripted stand-in for a coding agent, so that the example's agent workstream runs with no API
// key. For each file it is given it writes the recipe below; a recipe with a `draft` gets the
// draft on a first try (plausible, slightly wrong) and its `final` once the prompt carries the
// failing acceptance output of a previous attempt.
//
//   node scripts/fake-agent.mjs --prompt-file FILE FILE_TO_WRITE...
import fs from "node:fs";
import path from "node:path";

const RECIPES = {
  "src/textkit/truncate.py": {
    // Cuts at width and appends the ellipsis: one character too long.
    draft: `"""Shortening text to a width."""


def truncate(text: str, width: int) -> str:
    """text when it fits in width characters, else its start and an ellipsis."""
    return text if len(text) <= width else text[:width] + "…"
`,
    final: `"""Shortening text to a width."""


def truncate(text: str, width: int) -> str:
    """text when it fits in width characters, else its start and an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"
`,
  },
  "tests/test_truncate.py": {
    final: `from textkit.truncate import truncate


def test_short_text_is_kept() -> None:
    assert truncate("ws", 5) == "ws"


def test_long_text_fits_the_width_with_its_ellipsis() -> None:
    assert truncate("hello world", 8) == "hello w…"
    assert len(truncate("hello world", 8)) == 8
`,
  },
  "src/textkit/initials.py": {
    final: `"""Initials of a name."""


def initials(name: str) -> str:
    """'ada king lovelace' -> 'AKL'."""
    return "".join(word[0].upper() for word in name.split())
`,
  },
  "tests/test_initials.py": {
    final: `from textkit.initials import initials


def test_initials_of_each_word() -> None:
    assert initials("ada king lovelace") == "AKL"


def test_no_words_no_initials() -> None:
    assert initials("   ") == ""
`,
  },
};

function parseArgs(argv) {
  const files = [];
  let promptFile;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--prompt-file") promptFile = argv[++i];
    else if (argv[i].startsWith("-")) throw new Error(`unknown option ${argv[i]}`);
    else files.push(argv[i]);
  }
  if (!promptFile) throw new Error("--prompt-file is required");
  return { promptFile, files };
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fake-agent: ${error.message}\nusage: fake-agent --prompt-file FILE FILE...\n`);
    return 2;
  }
  const retry = fs.readFileSync(args.promptFile, "utf8").includes("## Previous attempt failed");
  const say = (line) => process.stdout.write(`fake-agent: ${line}\n`);
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
