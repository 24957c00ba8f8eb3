import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { err, out } from "./context.js";
import { UserError } from "../errors.js";
import { uninstallableTools } from "../export/agent-clis.js";
import { exportFlags, renderGithubWorkflow } from "../export/github.js";
import { detectPackageManager } from "../export/package-manager.js";
import { detectToolchains } from "../export/toolchain.js";
import { parseTriggers } from "../export/triggers.js";
import { resolveWsSource } from "../export/ws-source.js";
import { gitStatusSync } from "../git/run-git.js";
import { buildGraph } from "../graph/graph.js";
import { loadValidWorkstream } from "../workstream/load.js";
import { locateWorkstream } from "../workstream/locate-file.js";

export interface ExportGithubOptions {
  wsId: string;
  output?: string;
  check?: boolean;
  /** A tarball in the repository or `git+https://…#<commit>`; default: the repository's own dependency on ws. */
  wsFrom?: string;
  on?: string[];
  cron?: string[];
  /** Custom tools the runner has without an install step (the user's word for it). */
  toolInstalled?: string[];
}

/** Whether git tracks `file` in `root`; undefined outside a repository (or without git). */
function trackedByGit(root: string): (file: string) => boolean | undefined {
  return (file) => {
    // Through ws's one git builder: no hook or fsmonitor of the repository runs for a question.
    const tracked = gitStatusSync(root, ["ls-files", "--error-unmatch", "--", file]);
    if (tracked === undefined) return undefined;
    if (tracked === 0) return true;
    return gitStatusSync(root, ["rev-parse", "--is-inside-work-tree"]) === 0 ? false : undefined;
  };
}

/** `ws export github`: write the workflow, or with `--check` say whether the file on disk is current. */
export async function exportGithubCommand(options: ExportGithubOptions, ctx: CliContext): Promise<number> {
  if (options.check && options.output === undefined) {
    throw new UserError("--check compares with a file: give it with -o FILE", {
      fix: `ws export github --ws-id ${options.wsId} -o .github/workflows/${options.wsId}.yml --check`,
    });
  }
  const file = locateWorkstream(options.wsId, { dir: ctx.dir });
  const { workstream } = await loadValidWorkstream(file, { cwd: ctx.cwd, env: ctx.env });
  // The workflow runs at the repository root, so the folder is named relative to it.
  const dir = path.relative(ctx.cwd, ctx.dir).split(path.sep).join("/");
  const triggers = parseTriggers(options.on, options.cron);
  if (!triggers.ok) throw new UserError(triggers.message, { fix: triggers.fix });
  const missing = uninstallableTools(workstream, options.toolInstalled ?? []);
  if (missing.length > 0) {
    const list = missing.map((t) => `${t.tool} (command ${t.command}; steps ${t.steps.join(", ")})`).join("; ");
    throw new UserError(`the exported jobs cannot install ${list}: a fresh runner has only what a job installs`, {
      fix: `make the command a script in the repository (a path such as ./tools/${missing[0]!.command}), or, when the runner or your package install provides it, say so: ${missing.map((t) => `--tool-installed ${t.tool}`).join(" ")}`,
    });
  }
  const packageManager = detectPackageManager(ctx.cwd);
  const source = resolveWsSource(ctx.cwd, options.wsFrom, packageManager, trackedByGit(ctx.cwd));
  if (!source.ok) throw new UserError(source.message, { fix: source.fix });
  for (const warning of source.warnings) err(ctx, `warning: ${warning}`);
  const renderOptions = { dir, ws: source.source, packageManager, toolchains: detectToolchains(ctx.cwd), triggers: triggers.triggers, toolsInstalled: options.toolInstalled };
  const text = renderGithubWorkflow(workstream, buildGraph(workstream), renderOptions);

  if (options.output === undefined) {
    ctx.stdout.write(text);
    return 0;
  }
  const target = path.resolve(ctx.base, options.output);
  const regenerate = `ws export github --ws-id ${workstream.id}${exportFlags(renderOptions)} -o ${options.output}`;
  if (options.check) {
    let current: string;
    try {
      current = fs.readFileSync(target, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      throw new UserError(`${options.output} does not exist`, { fix: `generate it with: ${regenerate}` });
    }
    if (current !== text) {
      err(ctx, `${options.output}: out of date, regenerate with: ${regenerate}`);
      return 1;
    }
    if (!ctx.quiet) out(ctx, `${options.output}: up to date`);
    return 0;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  if (!ctx.quiet) err(ctx, `wrote ${options.output}`);
  return 0;
}
