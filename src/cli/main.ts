import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createContext, type CliContext, type GlobalFlags } from "./context.js";
import { isUserError } from "../errors.js";
import { version } from "../version.js";
import { pickId } from "./pick-id.js";

/**
 * The one place that declares commands and maps outcomes to exit codes. Command modules are
 * imported lazily so `ws --help` loads none of ajv, yaml, execa or ora.
 */

type Handler<O> = (options: O, ctx: CliContext) => Promise<number>;

/** Marks the options of a command that cannot work without a workstream id (checked once the context exists). */
const NEEDS_ID = Symbol("needs a workstream id");
type Run = <O>(load: () => Promise<Handler<O>>) => (options: O) => Promise<void>;

/**
 * `[id]` and `--ws-id` on one command: the action merges them into `wsId`, so command modules
 * see one field whichever way the user typed it.
 */
function withId(cmd: Command, what: string, required: boolean, run: Run, load: () => Promise<Handler<object>>, name: string): Command {
  return cmd
    .argument("[id]", `${what} (same as --ws-id)`)
    .option("--ws-id <id>", what)
    .action(async (id: string | undefined, options: { wsId?: string }) => {
      const wsId = pickId(id, options.wsId, name);
      await run(load)({ ...options, wsId, ...(required && wsId === undefined ? { [NEEDS_ID]: name } : {}) });
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number >= 1");
  return n;
}

function list(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `ws run`, the command with the most flags, declared apart so the program reads as a list of commands. */
function addRunCommand(program: Command, run: Run): void {
  withId(program.command("run"), "the workstream to run (workstreams/<id>.json)", true, run, async () => (await import("./run.js")).runCommand as Handler<object>, "run")
    .description("validate a workstream, then run its steps")
    .option("--dry-run", "print the plan (waves, critical path, estimate) and run nothing")
    .option("--resume", "continue the last run, skipping steps that passed")
    .option("--force", "with --resume: continue even though the workstream file changed")
    .option("--rebase", "with --resume: run the unfinished steps on the working tree as it is now")
    .option("--rollback", "run no step: undo the last run's passed steps with their compensate commands")
    .option("--only <ids>", "run only these steps (comma-separated)", list)
    .option("--from <id>", "run this step and everything that depends on it")
    .option("--base <ref>", "start from this commit (e.g. HEAD) instead of the working tree as it is")
    .option("--with-deps", "with --only/--from: also run every step the chosen ones depend on")
    .option("--approve <ids>", "pass these steps' approval gates without asking (comma-separated, or all)", list)
    .option("--max-workers <n>", "override execution.max_workers", positiveInt)
    .option("--json", "print one JSON event per line")
    .option("--stream", "show each running step's output live, each line prefixed [step] (at most 20 lines a second per step; all of it is in ws logs)")
    .option("--junit <file>", "write a JUnit XML report")
    .option("--summary <file>", "write a Markdown summary")
    .addOption(new Option("--order <order>", "ready-queue order (for benchmarks)").choices(["critical-path", "fifo"]).hideHelp());
}

function buildProgram(run: Run): Command {
  const program = new Command("ws")
    .description("Run workstreams of coding-agent steps in parallel: validate, plan, run, watch.")
    .version(version(), "-V, --version")
    .option("--dir <dir>", "folder holding workstream files (default: <project root>/workstreams)")
    .option("--cwd <dir>", "project root to work in (default: the nearest folder upwards holding workstreams/ or .git)")
    .option("--no-color", "plain output without colours")
    .option("-q, --quiet", "print only errors and the final result")
    .option("--verbose", "print more detail")
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false);

  addRunCommand(program, run);

  withId(program.command("status"), "one workstream (default: every workstream with its last run)", false, run, async () => (await import("./status.js")).statusCommand as Handler<object>, "status")
    .description("show each step's state, attempts, duration and reason")
    .option("--json", "print JSON")
    .option("--watch", "refresh until the run ends")
    .option("--all", "list every step, also the steps the run did not select (counted, not listed, past 50)")
    .option("--timeline", "draw the last run as bars on a time axis (waits, attempts, tests; the critical path marked)");

  withId(program.command("approve"), "the workstream whose run waits", true, run, async () => (await import("./approve.js")).approveCommand as Handler<object>, "approve")
    .description("approve a step waiting at its approval gate in the running run")
    .option("--step <id>", "the gated step");

  withId(program.command("reject"), "the workstream whose run waits", true, run, async () => (await import("./approve.js")).rejectCommand as Handler<object>, "reject")
    .description('reject a step waiting at its approval gate: it holds the run (exit 4; --resume --approve continues), or fails the step under approval.on_reject "fail" (reason rejected)')
    .option("--step <id>", "the gated step")
    .option("--reason <text>", "why; recorded with the decision");

  withId(program.command("graph"), "the workstream to draw", true, run, async () => (await import("./graph.js")).graphCommand as Handler<object>, "graph")
    .description("draw the dependency graph")
    .addOption(new Option("--format <format>", "output format (default: from -o's extension, else ascii)").choices(["ascii", "mermaid", "dot", "svg", "png", "json"]))
    .option("-o, --output <file>", "write to a file instead of stdout");

  withId(program.command("report"), "the workstream whose last run to report", true, run, async () => (await import("./report.js")).reportCommand as Handler<object>, "report")
    .description("write the last run as one self-contained HTML page: timeline, graph, each step's tests, diff and log")
    .option("-o, --output <file>", "where to write it (default: .worktrees/<id>/report.html, or trace.json)")
    .addOption(new Option("--format <format>", "html: the page; trace: Chrome Trace Event JSON (Perfetto, chrome://tracing)").choices(["html", "trace"]).default("html"))
    .option("--watch", "rewrite the page as the run goes on, until it ends");

  program
    .command("validate")
    .description("check workstream files: schema, dependencies, cycles, file-scope conflicts")
    .argument("[files...]", "workstream files or ids (default: every file in the workstreams folder)")
    .option("--ws-id <id>", "validate one workstream by id")
    .option("--json", "print diagnostics as JSON")
    .action((files: string[], options: object) => run(async () => (await import("./validate.js")).validateCommand)({ ...options, files }));

  program
    .command("list")
    .description("list workstreams with step counts and last state")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./list.js")).listCommand));

  withId(program.command("logs"), "the workstream", true, run, async () => (await import("./logs.js")).logsCommand as Handler<object>, "logs")
    .description("show the orchestrator log (the last run's) or one step's output")
    .option("--step <id>", "one step's output")
    .option("--attempt <n>", "which attempt (default: the latest)", positiveInt)
    .option("--all", "the orchestrator log of every run, not only the last")
    .option("-f, --follow", "keep printing as the log grows");

  program
    .command("init")
    .description("write a commented starter workstream")
    .argument("[id]", "the new workstream's id", "ws-my-first-workstream")
    .option("--force", "overwrite an existing file")
    .action((id: string, options: object) => run(async () => (await import("./init.js")).initCommand)({ ...options, id }));

  withId(program.command("clean"), "the workstream", true, run, async () => (await import("./clean.js")).cleanCommand as Handler<object>, "clean")
    .description("remove a workstream's worktree, state folder and backup branches (its ws/<id> branch stays)")
    .option("-y, --yes", "don't ask (needed when not in a terminal)");

  const exportCmd = program.command("export").description("export a workstream to another system");
  withId(exportCmd.command("github"), "the workstream", true, run, async () => (await import("./export-github.js")).exportGithubCommand as Handler<object>, "export github")
    .description("write a GitHub Actions workflow, one job per step")
    .option("-o, --output <file>", "write to a file (default: stdout)")
    .option("--check", "exit 1 if the file on disk differs from what would be generated")
    .option("--ws-from <source>", "where the jobs get ws: a tarball committed in the repository, or git+https://…#<commit> (default: the repository's own dependency on ws-orchestrator)")
    .option("--on <events>", "what starts the workflow: push, pull_request, workflow_dispatch, schedule (repeatable or comma-separated; default workflow_dispatch)", collect, [])
    .option("--cron <line>", "with --on schedule: a cron line in UTC (repeatable)", collect, [])
    .option("--tool-installed <tool>", "a custom tool the runner has without an install step (repeatable)", collect, []);

  return program;
}

function reportInternalError(error: unknown): void {
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `ws: internal error (ws ${version()}, node ${process.version}). This is a bug; please report it with the output below.\n${stack}\n`,
  );
}

/** Entry point used by bin/ws.js. Sets process.exitCode; never calls process.exit with work pending. */
export async function main(argv: string[]): Promise<void> {
  let ctx: CliContext | undefined;
  const run = <O>(load: () => Promise<Handler<O>>) => async (options: O): Promise<void> => {
    ctx = createContext(program.opts<GlobalFlags>());
    const needsId = (options as { [NEEDS_ID]?: string })[NEEDS_ID];
    if (needsId !== undefined) throw (await import("./ids.js")).missingIdError(ctx, needsId);
    const handler = await load();
    process.exitCode = await handler(options, ctx);
  };
  const program = buildProgram(run);
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const sub of program.commands) sub.exitOverride();
  for (const sub of program.commands.flatMap((c) => c.commands)) sub.exitOverride();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; a bad flag is a usage error (2).
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (isUserError(error)) {
      // No context yet: the error came from making it (a folder this user cannot read), so none that reads the folders.
      const c = ctx ?? createContext({ cwd: path.sep });
      const { printUserError } = await import("./print-error.js");
      printUserError(c, error);
      process.exitCode = error.exitCode;
      return;
    }
    reportInternalError(error);
    process.exitCode = 70;
  }
}

