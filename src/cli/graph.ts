import fs from "node:fs";
import path from "node:path";
import type { CliContext } from "./context.js";
import { err } from "./context.js";
import { UserError } from "../errors.js";
import { loadValidWorkstream } from "../workstream/load.js";
import { locateWorkstream } from "../workstream/locate-file.js";
import { workstreamView } from "../render/workstream-view.js";
import type { GraphView } from "../render/graph-view.js";

export interface GraphOptions {
  wsId: string;
  /** Default: from the extension of `output`, else ascii. */
  format?: string | undefined;
  output?: string | undefined;
}

const BY_EXTENSION: Record<string, string> = { ".png": "png", ".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json", ".txt": "ascii" };

/** `-o x.png` means a PNG: the extension says what the user wants unless --format says otherwise. */
export function graphFormat(options: Pick<GraphOptions, "format" | "output">): string {
  if (options.format !== undefined) return options.format;
  if (options.output === undefined) return "ascii";
  return BY_EXTENSION[path.extname(options.output).toLowerCase()] ?? "ascii";
}

const BINARY_FORMATS = new Set(["svg", "png"]);


/** `ws graph`: draw the dependency graph, coloured by the last run, in one of six formats. */
export async function graphCommand(given: GraphOptions, ctx: CliContext): Promise<number> {
  const options = { ...given, format: graphFormat(given) };
  const file = locateWorkstream(options.wsId, { dir: ctx.dir });
  const { workstream } = await loadValidWorkstream(file, { cwd: ctx.cwd, env: ctx.env });
  if (options.output === undefined && BINARY_FORMATS.has(options.format) && ctx.stdout.isTTY) {
    const what = options.format === "png" ? "png is binary" : "svg is an image";
    throw new UserError(`${what}; use -o FILE or pipe it`, { fix: `ws graph --ws-id ${options.wsId} --format ${options.format} -o graph.${options.format}` });
  }
  const view = workstreamView(workstream, ctx.cwd);

  const toFile = options.output !== undefined;
  const rendered = await render(view, options.format, {
    color: ctx.color && !toFile,
    width: (!toFile && ctx.stdout.columns) || 100,
  });
  if (options.output !== undefined) {
    const target = path.resolve(ctx.base, options.output);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, rendered);
    if (ctx.verbose) err(ctx, `wrote ${target}`);
  } else {
    ctx.stdout.write(rendered);
  }
  return 0;
}

async function render(view: GraphView, format: string, text: { color: boolean; width: number }): Promise<string | Buffer> {
  // Each renderer is imported only when used: Graphviz's wasm and resvg's native module are heavy.
  switch (format) {
    case "ascii":
      return (await import("../render/ascii.js")).renderAscii(view, text);
    case "mermaid":
      return (await import("../render/mermaid.js")).renderMermaid(view);
    case "dot":
      return (await import("../render/dot.js")).renderDot(view);
    case "json":
      return (await import("../render/json.js")).renderJson(view);
    case "svg":
    case "png": {
      const { renderDot } = await import("../render/dot.js");
      const svg = await (await import("../render/svg.js")).dotToSvg(renderDot(view));
      if (format === "svg") return svg;
      return (await import("../render/png.js")).svgToPng(svg).data;
    }
    default:
      throw new UserError(`unknown graph format "${format}"`, { fix: "use ascii, mermaid, dot, svg, png or json" });
  }
}
