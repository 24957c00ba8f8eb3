import type { RunState } from "../store/run-state.js";

/**
 * What to run after a failed run. `--resume` runs the unfinished steps on the run's base, so
 * once the working tree has changed (the user's fix) only `--resume --rebase` runs them on it:
 * the footer must not send the user back to the old base it just warned about.
 */
export async function resumeHint(wsId: string, state: RunState, cwd: string): Promise<string> {
  const resume = `ws run --ws-id ${wsId} --resume`;
  if (state.base === undefined) return `continue with: ${resume}`;
  const { gitRoot } = await import("../git/repo.js");
  const root = await gitRoot(cwd);
  const { workingTreeDiffers } = await import("../git/working-tree-base.js");
  if (root !== undefined && (await workingTreeDiffers(root, state.base))) {
    return `continue with: ${resume} --rebase (your working tree changed since the run's base; --resume alone runs the steps on the old one)`;
  }
  return `continue with: ${resume} (after fixing the code, ${resume} --rebase: --resume alone runs the steps on the run's base)`;
}
