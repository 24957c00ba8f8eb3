import fs from "node:fs";
import path from "node:path";
import type { Step, Workstream } from "../workstream/model.js";
import { attemptMark } from "./attempt-mark.js";
import type { Containment } from "./containment.js";
import { withheldSecrets } from "./secrets.js";

/** Names this ws process's cookies: unique per run, so a later run reaps only what it recorded.
 *  Math.random, not node:crypto: unlikely to repeat is all it needs (node:crypto: ~10 ms, 1 MB of a start). */
const RUN_TOKEN = `${process.pid.toString(36)}${Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, "0")}`;

export interface AttemptPlace {
  workstream: Workstream;
  step: Step;
  attempt: number;
  /** The run's environment (interpolation, tool settings). */
  env: NodeJS.ProcessEnv;
  /** What the process inherits: process.env as the run found it. */
  inherited: Readonly<Record<string, string>>;
  /** Where the process runs. */
  cwd: string;
  /** The run's worktree (writable in the sandbox). */
  tree: string;
  /** The step's state folder (prompt files, chat histories; writable in the sandbox). */
  stepDir: string;
  /** The project root (readable in the sandbox even when it lies under the private /tmp). */
  root: string;
  /** Agents' processes run sandboxed by default (bwrap works here, the workstream chose no isolation). */
  sandboxAgents?: boolean | undefined;
}

/**
 * What surrounds one process of an attempt: its cookie, the secrets it does not get, and the
 * sandbox. `keyVariables`: the tool's own keys (none for shell steps and acceptance tests);
 * `given`: the variables the step sets itself, which are never withheld.
 */
export function attemptContainment(place: AttemptPlace, keyVariables: readonly string[], given: Iterable<string>, agentState?: readonly string[]): Containment {
  const { workstream, step } = place;
  const execution = workstream.execution;
  // An agent's own process is sandboxed by default; shell steps and acceptance tests are the user's own commands.
  const byDefault = place.sandboxAgents === true && agentState !== undefined;
  return {
    mark: attemptMark(RUN_TOKEN, step.id, place.attempt),
    // The inherited environment: what runProcess passes on, whatever the run was given as its env.
    withhold: withheldSecrets([place.inherited, place.env], [...keyVariables, ...step.inheritEnv], given),
    sandbox:
      execution.isolation === "sandbox" || byDefault
        ? {
            bwrap: bwrapBinary(place.env),
            writable: [place.tree, place.stepDir, ...execution.sandbox.writable, ...(agentState ?? []).filter(exists)],
            readable: [place.root, ...sharedGitDir(place.tree), ...programsUnderTmp({ ...place.inherited, ...place.env, ...place.step.env })],
            network: execution.sandbox.network,
            cwd: place.cwd,
          }
        : undefined,
  };
}

/**
 * The folders on PATH below /tmp (a tool installed in a temp folder, a project cloned there): the
 * sandbox's private /tmp would hide them, and the step's own program with them.
 */
function programsUnderTmp(env: NodeJS.ProcessEnv): string[] {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir.startsWith("/tmp/") && fs.existsSync(dir));
  return [...new Set(dirs)];
}

/** bwrap cannot bind what does not exist; the adapters' state folders are made beforehand (see agentStateDirs). */
function exists(file: string): boolean {
  return fs.existsSync(file);
}

/**
 * The folders and files an agent CLI keeps its state in, made when missing (a folder) so the
 * sandbox can leave them writable: the CLI would create them on its first run anyway.
 */
export function agentStateDirs(paths: string[]): string[] {
  for (const p of paths) {
    if (!fs.existsSync(p) && path.extname(p) === "") fs.mkdirSync(p, { recursive: true });
  }
  return paths;
}

/**
 * What git in the sandbox must read even when it lies under the private /tmp: the lane's own git
 * dir, which its `.git` file names (`gitdir: <lane>.git`), and the objects it borrows (its
 * alternates: the user's repository). A worktree of an older ws points into the repository's
 * git dir (`<repo>/.git/worktrees/<name>`), whose whole common dir is shown then.
 */
function sharedGitDir(tree: string): string[] {
  try {
    const pointer = /^gitdir: (.+)$/m.exec(fs.readFileSync(path.join(tree, ".git"), "utf8"))?.[1];
    if (pointer === undefined) return [];
    const gitDir = path.resolve(tree, pointer.trim());
    if (path.basename(path.dirname(gitDir)) === "worktrees") return [path.resolve(gitDir, "..", "..")];
    const alternates = fs.readFileSync(path.join(gitDir, "objects", "info", "alternates"), "utf8").split("\n").filter((line) => line.startsWith("/"));
    return [gitDir, ...alternates.filter((dir) => fs.existsSync(dir))];
  } catch {
    return []; // no lane (yet), or a plain checkout: nothing more to show
  }
}

/** `WS_BWRAP_BIN` points at another bwrap, as `WS_<TOOL>_BIN` does for tools. */
export function bwrapBinary(env: NodeJS.ProcessEnv): string {
  return env.WS_BWRAP_BIN || "bwrap";
}
