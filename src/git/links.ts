import { readlink, realpath } from "node:fs/promises";
import path from "node:path";

/** Whether `file` is a symlink whose target lies outside `root` (both absolute): what is written
 *  through it lands outside the tree, and committed it would point a reviewer's checkout there. */
export async function pointsOutside(file: string, root: string): Promise<boolean> {
  const target = await readlink(file).catch(() => undefined);
  if (target === undefined) return false;
  const realRoot = await realpath(root).catch(() => root);
  const resolved = path.resolve(await realpath(path.dirname(file)).catch(() => path.dirname(file)), target);
  return resolved !== realRoot && !resolved.startsWith(realRoot + path.sep);
}
