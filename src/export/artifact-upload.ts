import type { Step } from "../workstream/model.js";

/**
 * What a step job adds for two step features, kept apart from the job's own layout:
 * `artifacts` (ws copies a passed step's files to .worktrees/<id>/artifacts/<step>/, under the
 * checkout's root where the job runs ws; actions/upload-artifact keeps them past the job), and
 * a run_if step's WS_NEEDS (ws runs the step alone: its dependencies' results are GitHub's
 * `needs`, in the very JSON shape ws gives the step).
 */

export function artifactUpload(wsId: string, step: Step, job: string): Array<Record<string, unknown>> {
  if (step.artifacts.length === 0) return [];
  return [
    {
      name: "Upload the step's artifacts",
      uses: "actions/upload-artifact@v4",
      // ws has warned in the log already for a glob that matched nothing.
      with: { name: `ws-artifacts-${job}`, path: `.worktrees/${wsId}/artifacts/${step.id}/`, "if-no-files-found": "warn" },
    },
  ];
}

export function needsEnv(step: Step): Record<string, string> {
  return step.runIf === "success" ? {} : { WS_NEEDS: "${{ toJSON(needs) }}" };
}
