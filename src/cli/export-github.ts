import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { err, out } from "./context.js";
import { UserError } from "../errors.js";
import { renderGithubWorkflow } from "../export/github.js";
import { buildGraph } from "../graph/graph.js";
import { loadValidWorkstream } from "../workstream/load.js";
import { locateWorkstream } from "../workstream/locate-file.js";

export interface ExportGithubOptions {
  wsId: string;
  output?: string;
  check?: boolean;
  wsPackage?: string;
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
  const text = renderGithubWorkflow(workstream, buildGraph(workstream), { dir, wsPackage: options.wsPackage });

  if (options.output === undefined) {
    ctx.stdout.write(text);
    return 0;
  }
  const target = path.resolve(ctx.base, options.output);
  const dirFlag = dir === "workstreams" ? "" : ` --dir ${dir}`;
  const packageFlag = options.wsPackage === undefined ? "" : ` --ws-package ${options.wsPackage}`;
  const regenerate = `ws export github --ws-id ${workstream.id}${dirFlag}${packageFlag} -o ${options.output}`;
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
