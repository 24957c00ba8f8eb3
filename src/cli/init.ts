import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import { idProblem } from "../workstream/locate-file.js";
import { displayPath } from "../workstream/load.js";
import { SCHEMA_PATH } from "../workstream/schema-path.js";
import { out, type CliContext } from "./context.js";

export interface InitOptions {
  id: string;
  force?: boolean;
}

/** A starter that validates, explains itself in "$comment"s, and shows each kind of step. */
export function starterWorkstream(id: string, schemaRef: string): object {
  return {
    $schema: schemaRef,
    $comment:
      "A workstream: steps run as soon as the steps in their depends_on have passed, several at once. " +
      "The id must equal the file name. Every key is described in the schema named by $schema (your editor completes them).",
    id,
    name: "My first workstream",
    description: "Prepare a folder, let an agent write a module into it, then show the result",
    execution: {
      $comment:
        "max_workers: steps at once (or \"auto\"); timeout_per_step: seconds per attempt; on_failure: continue | stop | abort. " +
        "Values here may use ${env.NAME:-default}.",
      max_workers: 2,
      timeout_per_step: 600,
      on_failure: "continue",
    },
    steps: [
      {
        $comment:
          "A shell step runs `run` through a shell. Every acceptance test must exit 0 for the step to pass. " +
          "Without file_scope a shell step claims no files: a check that changes a tracked file, or creates one git does not ignore " +
          "(a linter that autofixes), fails as scope_violation and nothing is committed; a step whose job is to write lists what in file_scope.",
        id: "prepare",
        description: "Create the source folder",
        tool: "shell",
        run: "mkdir -p src",
        depends_on: [],
        acceptance_tests: ["test -d src"],
      },
      {
        $comment:
          "An agent step (aider, claude, codex, gemini): the tasks become its prompt, file_scope lists what it may change, " +
          "and a failed acceptance test is fed back to it on a retry.",
        id: "write-module",
        description: "Write a greeting module",
        tool: "claude",
        tasks: ["Create src/greeting.py with a function greet(name) that returns \"Hello, <name>!\"."],
        file_scope: ["src/greeting.py"],
        depends_on: ["prepare"],
        retries: 1,
        acceptance_tests: [
          { run: "python3 -c \"import sys; sys.path.insert(0, 'src'); import greeting; assert greeting.greet('ws') == 'Hello, ws!'\"", timeout: 60 },
        ],
      },
      {
        id: "show",
        description: "Print the module",
        tool: "shell",
        run: "cat src/greeting.py",
        depends_on: ["write-module"],
      },
    ],
  };
}

/** Where `ws init` keeps its copy of the schema, inside the workstreams folder (a folder, so never listed as a workstream). */
export const SCHEMA_COPY = path.join("schema", "workstream.schema.json");

/**
 * `$schema` for a workstream in `dir`, a relative path every clone resolves offline (VS Code
 * reads a relative `$schema` from disk; a URL it must download, and the package is not
 * published yet). Through the package's own name in the nearest node_modules when the project
 * depends on ws (it follows upgrades; pnpm's store path the binary runs from is gone at the next
 * version), the shipped file when `dir` is inside ws's own package, and otherwise (a global
 * install, npx) a copy written into `dir`, committed with the workstreams: a path into the
 * global prefix or npx's cache breaks on every other machine.
 */
export function schemaRef(dir: string): { ref: string; copy?: string } {
  const packageRoot = path.dirname(path.dirname(SCHEMA_PATH));
  const name = packageName(packageRoot);
  const real = realpath(SCHEMA_PATH);
  for (let at = dir; name !== undefined; ) {
    const linked = path.join(at, "node_modules", ...name.split("/"), path.relative(packageRoot, SCHEMA_PATH));
    if (realpath(linked) === real) return { ref: relativeRef(dir, linked) };
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  const fromRoot = path.relative(packageRoot, dir);
  if (!fromRoot.startsWith("..") && !path.isAbsolute(fromRoot) && !fromRoot.split(path.sep).includes("node_modules")) {
    return { ref: relativeRef(dir, SCHEMA_PATH) };
  }
  return { ref: relativeRef(dir, path.join(dir, SCHEMA_COPY)), copy: path.join(dir, SCHEMA_COPY) };
}

/** Writes (or refreshes, after an upgrade of ws) the schema copy; whether it changed. */
function writeSchemaCopy(file: string): boolean {
  const shipped = fs.readFileSync(SCHEMA_PATH, "utf8");
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === shipped) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, shipped);
  return true;
}

function relativeRef(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join("/");
}

function packageName(root: string): string | undefined {
  try {
    const name = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { name?: unknown }).name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}

function realpath(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}

export async function initCommand(options: InitOptions, ctx: CliContext): Promise<number> {
  if (idProblem(options.id)) {
    // Suggest an id made from what was typed, never an unrelated example id.
    const slug = options.id.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "") || "ws-my-first-workstream";
    throw new UserError(`invalid workstream id ${JSON.stringify(options.id)}: ${idProblem(options.id)}`, { fix: `ws init ${slug}` });
  }
  const file = path.join(ctx.dir, `${options.id}.json`);
  const shown = displayPath(file, ctx.cwd);
  const existing = [".json", ".yaml", ".yml"].map((ext) => path.join(ctx.dir, options.id + ext)).find((f) => fs.existsSync(f));
  if (existing && existing !== file) {
    throw new UserError(`${displayPath(existing, ctx.cwd)} already exists`, { fix: "remove it first, or choose another id: ws init <id>" });
  }
  if (existing && !options.force) {
    throw new UserError(`${displayPath(existing, ctx.cwd)} already exists`, { fix: "pass --force to overwrite it, or choose another id: ws init <id>" });
  }
  fs.mkdirSync(ctx.dir, { recursive: true });
  const schema = schemaRef(ctx.dir);
  fs.writeFileSync(file, JSON.stringify(starterWorkstream(options.id, schema.ref), null, 2) + "\n");
  out(ctx, `created ${shown}`);
  if (schema.copy !== undefined && writeSchemaCopy(schema.copy)) {
    out(ctx, `wrote ${displayPath(schema.copy, ctx.cwd)} (the schema $schema names, for your editor: commit it with the workstream)`);
  }
  if (!ctx.quiet) {
    const dirFlag = path.resolve(ctx.cwd, "workstreams") === ctx.dir ? "" : ` --dir ${displayPath(ctx.dir, ctx.cwd)}`;
    out(ctx, "");
    out(ctx, `next (edit ${shown} first: its steps are examples):`);
    out(ctx, `  ws validate${dirFlag} ${options.id}     check it`);
    out(ctx, `  ws graph${dirFlag} ${options.id}        draw its steps`);
    out(ctx, `  ws run${dirFlag} ${options.id} --dry-run  show the plan without running anything`);
    out(ctx, `  ws run${dirFlag} ${options.id}          run it`);
  }
  return 0;
}
