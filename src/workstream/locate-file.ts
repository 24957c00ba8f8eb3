import fs from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";
import { nearest } from "./suggest.js";

const EXTENSIONS = [".json", ".yaml", ".yml"] as const;
const ID_CHARS = /^[A-Za-z0-9._-]+$/;

/**
 * Why `id` cannot name a workstream file, or undefined when it can. Checked before any file
 * access, so an id can never point outside the workstreams folder.
 */
export function idProblem(id: string): string | undefined {
  if (id === "") return "it is empty";
  if (id.includes("/") || id.includes("\\")) return "it contains a path separator";
  if (id.includes("..")) return 'it contains ".."';
  if (!ID_CHARS.test(id)) return "only letters, digits, '.', '_' and '-' are allowed";
  if (id.startsWith(".") || id.startsWith("-")) return "it must not start with '.' or '-'";
  return undefined;
}

/** Throws UserError (exit 2) when `id` cannot be a workstream id. */
export function assertValidId(id: string): void {
  const problem = idProblem(id);
  if (problem) {
    throw new UserError(`invalid workstream id ${JSON.stringify(id)}: ${problem}`, {
      fix: "use the file's name without extension, e.g. --ws-id ws-deploy-pipeline",
    });
  }
}

/** A workstreams folder that is a file or cannot be read is the user's to fix: say which and how. */
function folderError(dir: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOTDIR") {
    return new UserError(`the workstreams folder ${dir} is a file, not a folder`, { fix: "point --dir at the folder that holds the workstream files" });
  }
  return new UserError(`cannot read the workstreams folder ${dir} (${code ?? String(error)})`, {
    fix: code === "EACCES" ? `give yourself read access: chmod u+rx ${dir}` : "check the folder, or point --dir at another one",
  });
}

/** Absolute paths of the workstream files in `dir`, sorted; [] when the folder does not exist. */
export function listWorkstreamFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw folderError(dir, error);
  }
  return names
    .filter((name) => EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext)))
    .map((name) => path.resolve(dir, name))
    .filter((file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false)
    .sort();
}

export function kindOfEntry(stat: fs.Stats): string {
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a named pipe (FIFO)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** The id a file would have: its name without the extension. */
export function stemOf(file: string): string {
  return path.basename(file).replace(/\.(json|ya?ml)$/i, "");
}

/**
 * Throws UserError (exit 2) for a bad id (before any file access) or an unknown one (lists the
 * available ids and suggests the nearest).
 */
export function locateWorkstream(id: string, opts: { dir: string }): string {
  assertValidId(id);
  for (const ext of EXTENSIONS) {
    const file = path.resolve(opts.dir, id + ext);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(file, { throwIfNoEntry: false });
    } catch (error) {
      throw folderError(opts.dir, error);
    }
    if (stat?.isFile()) return file;
    // Reading a FIFO would wait for a writer forever; a device or folder is no workstream either.
    if (stat) throw new UserError(`${file} is ${kindOfEntry(stat)}, not a workstream file`, { fix: "replace it with a regular .json or .yaml file" });
  }
  const available = listWorkstreamFiles(opts.dir).map(stemOf);
  if (available.length === 0) {
    throw new UserError(`unknown workstream ${JSON.stringify(id)}: no workstream files in ${opts.dir}`, {
      fix: "create one with `ws init`, or point --dir at the folder that holds them",
    });
  }
  const guess = nearest(id, available);
  const list = available.join(", ");
  throw new UserError(`unknown workstream ${JSON.stringify(id)} in ${opts.dir}`, {
    fix: guess ? `did you mean ${guess}? (available: ${list})` : `available: ${list}`,
  });
}
