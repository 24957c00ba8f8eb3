import fs from "node:fs";
import path from "node:path";
import type { Workstream } from "../workstream/model.js";

/** `WS_<TOOL>_BIN`: the tool name upper-cased, anything not a letter or digit as `_`. */
export function binaryEnvVar(toolName: string): string {
  return `WS_${toolName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_BIN`;
}

/** What a tool would run before lookup: the override, else /bin/sh, else its command name. */
export function wantedBinary(ws: Workstream, toolName: string, env: NodeJS.ProcessEnv): string {
  if (toolName === "shell") return "/bin/sh";
  const override = env[binaryEnvVar(toolName)];
  if (override) return override;
  return (Object.hasOwn(ws.tools, toolName) ? ws.tools[toolName]?.command : undefined) ?? toolName;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
  } catch {
    return false; // missing, or a PATH entry that is a file or unreadable
  }
  return isExecutable(file);
}

/** A hit checked again: it was a regular file when found, so the permission is all that is asked
 *  (one access() instead of a stat and an access, twice an attempt). */
function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `name` was last found for a PATH. A step's command is looked up twice per attempt (is it
 * a simple command, what to exec): walking PATH is a stat per folder, and in a 1000-step run those
 * calls were a tenth of ws's samples (bench/NOTES.md). A hit is checked again before it is used,
 * so a binary removed since is searched anew; one installed since in an earlier PATH folder is
 * found by the next ws process, not this one.
 */
const found = new Map<string, string>();

/** Like `which`: the first executable `name` in env.PATH. Empty PATH entries are skipped (they mean "."). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const key = `${env.PATH ?? ""}\0${name}`;
  const known = found.get(key);
  if (known !== undefined && isExecutable(known)) return known;
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (!isExecutableFile(candidate)) continue;
    found.set(key, candidate);
    return candidate;
  }
  found.delete(key);
  return undefined;
}

/**
 * The binary a step's tool would run: WS_<TOOL>_BIN, else found on PATH; undefined if missing.
 * A relative command with a slash (`./bin/agent`) is returned unchecked: it names a file in the
 * step's working directory, which may be a worktree that does not exist yet.
 */
export function resolveToolBinary(ws: Workstream, toolName: string, env: NodeJS.ProcessEnv): string | undefined {
  const wanted = wantedBinary(ws, toolName, env);
  if (path.isAbsolute(wanted)) return isExecutableFile(wanted) ? wanted : undefined;
  if (wanted.includes("/")) return wanted;
  return findOnPath(wanted, env);
}
