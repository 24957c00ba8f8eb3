import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Launch } from "./containment.js";

/**
 * `isolation: "sandbox"`: each attempt runs under bubblewrap. The whole file system is mounted
 * read-only, with the step's worktree (and its own state folder, where prompt files and chat
 * histories go) bound read-write on top, a private /tmp, its own /dev and /proc in a pid
 * namespace of its own (so nothing started inside outlives the sandbox: --die-with-parent and the
 * namespace's init take it all down), and the network only when allowed. Writing anywhere else
 * fails with EROFS, including the shared git dir of the checkout.
 */

export interface SandboxOptions {
  /** The bwrap binary (PATH lookup by name). */
  bwrap: string;
  /** Folders the attempt may write, bound read-write at the same path. */
  writable: string[];
  /** Folders bound read-only again over the private /tmp (a project under /tmp, its shared git dir). */
  readable: string[];
  network: boolean;
  /** The attempt's working directory (inside a writable folder). */
  cwd: string;
}

export const SANDBOX_PACKAGE = "bubblewrap";

function bwrapFlags(network: boolean): string[] {
  return [
    "--die-with-parent",
    "--unshare-pid",
    ...(network ? [] : ["--unshare-net"]),
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
  ];
}

/** The same command, run inside the sandbox. The environment passes through bwrap unchanged. */
export function sandboxLaunch(launch: Launch, options: SandboxOptions): Launch {
  // Binds are applied in order: the writable folders go on top of the read-only root and the
  // private /tmp (a worktree under /tmp stays reachable).
  const program = programFolders(launch.command, launch.env?.PATH);
  const binds = [...[...options.readable, ...program].flatMap((dir) => ["--ro-bind", dir, dir]), ...options.writable.flatMap((dir) => ["--bind", dir, dir])];
  return {
    command: options.bwrap,
    args: [...bwrapFlags(options.network), ...binds, "--chdir", options.cwd, "--", launch.command, ...launch.args],
    env: launch.env,
  };
}

/**
 * What the sandbox's private /tmp would hide of the program itself: a program below /tmp
 * (WS_<TOOL>_BIN=/tmp/…, or found on PATH there) keeps its folder, and one that is a link (npm's
 * `node_modules/.bin/claude` → `../@anthropic-ai/claude-code/bin/claude.exe`) also keeps what it
 * resolves to: the whole `node_modules` it lies in, since a package needs its files and its
 * dependencies beside it. bwrap would otherwise fail with "execvp …: No such file or directory".
 */
export function programFolders(command: string, searchPath: string | undefined): string[] {
  const file = command.includes("/") ? command : onPath(command, searchPath);
  if (file === undefined) return [];
  const folders = file.startsWith("/tmp/") ? [path.dirname(file)] : [];
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return folders;
  }
  if (real !== file && real.startsWith("/tmp/")) {
    const modules = real.indexOf("/node_modules/");
    folders.push(modules >= 0 ? real.slice(0, modules + "/node_modules".length) : path.dirname(real));
  }
  return [...new Set(folders)];
}

function onPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Whether bwrap can make this sandbox on this machine: undefined when it can, else why not. It
 * runs `true` inside one, with the same namespaces (a kernel or container may forbid user or
 * network namespaces even where bwrap is installed).
 */
export function sandboxProblem(bwrap: string, network: boolean): string | undefined {
  const probe = spawnSync(bwrap, [...bwrapFlags(network), "--", "/bin/true"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return `bwrap (package "${SANDBOX_PACKAGE}") is not installed (looked for "${bwrap}")`;
    return `bwrap ("${bwrap}") cannot be started: ${probe.error.message}`;
  }
  if (probe.status === 0) return undefined;
  const said = probe.stderr.trim().split("\n").slice(-1)[0] ?? "";
  return `bwrap cannot create a sandbox here${said ? `: ${said}` : ` (exit ${probe.status ?? probe.signal})`}`;
}
