import { killGroup } from "./kill-tree.js";

/**
 * Process groups started by runProcess and not yet swept. A detached group gets no Ctrl-C from
 * the terminal, so ws's own SIGINT/SIGTERM handler must kill them explicitly.
 */
const live = new Set<number>();
let exitHookInstalled = false;

export function addLiveGroup(pid: number): void {
  live.add(pid);
  if (!exitHookInstalled) {
    // Last resort if ws ends without its signal handler running (a crash, process.exit): detached
    // groups would otherwise outlive it. Killing is synchronous, so it works in an exit hook.
    exitHookInstalled = true;
    process.on("exit", () => killAllLiveGroups("SIGKILL"));
  }
}

export function removeLiveGroup(pid: number): void {
  live.delete(pid);
}

/** Every process group started by runProcess and not yet swept; ws's SIGINT handler kills them. */
export function killAllLiveGroups(signal: NodeJS.Signals): number {
  for (const pid of live) killGroup(pid, signal);
  return live.size;
}

/** Whether `pid` leads a group runProcess started and has not swept yet. */
export function isLiveGroup(pid: number): boolean {
  return live.has(pid);
}

export function liveGroupCount(): number {
  return live.size;
}
