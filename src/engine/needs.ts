import fs from "node:fs";
import path from "node:path";
import { formatReason } from "../events/end-reason.js";
import type { StepState } from "../events/run-event.js";
import { idRecord } from "../id-record.js";
import type { StepRecord } from "../store/run-state.js";
import type { Step } from "../workstream/model.js";

/**
 * What a `run_if: always` / `failure` / `success_or_skipped` step is told of its dependencies, the
 * way GitHub Actions' `needs` context tells a job: `WS_NEEDS` is JSON
 * `{"<dep>": {"result": "failure", "outputs": {...}, "state": "failed", "reason": "exit:1"}}`
 * (`result` in GitHub's words, `state` and `reason` in ws's), and `WS_NEEDS_FILE` names a file
 * holding the same JSON. A `run_if: success` step is not told: its dependencies all passed.
 */

/** Whether a step is told: only one that may run after something other than a success. */
export function toldNeeds(step: Step): boolean {
  return step.runIf !== "success";
}

/** GitHub's `needs.<id>.result`. */
export type NeedResult = "success" | "failure" | "cancelled" | "skipped";

export interface Need {
  result: NeedResult;
  outputs: Record<string, string>;
  /** ws's own state: `blocked` (GitHub says skipped) tells a dependency that never ran because its own failed. */
  state?: StepState | undefined;
  reason?: string | undefined;
}

/** An environment variable's value is limited (Linux: 128 KiB a string): past this, only the file. */
export const MAX_NEEDS_ENV = 64 * 1024;

export function needResult(state: StepState): NeedResult {
  if (state === "passed") return "success";
  if (state === "failed") return "failure";
  if (state === "cancelled") return "cancelled";
  return "skipped";
}

function fromRecord(record: StepRecord): Need {
  return {
    result: needResult(record.state),
    outputs: idRecord(Object.entries(record.outputs ?? {})),
    state: record.state,
    reason: record.reason && record.state !== "passed" ? formatReason(record.reason) : undefined,
  };
}

/**
 * `WS_NEEDS` given to ws itself (an exported job passes `${{ toJSON(needs) }}`): the states of
 * dependencies this run does not hold. Anything but an object of objects with a `result` is ignored.
 */
export function givenNeeds(text: string | undefined): Record<string, Need> {
  const given = idRecord<Need>();
  if (!text) return given;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return given;
  }
  if (typeof parsed !== "object" || parsed === null) return given;
  for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
    const result = (value as { result?: unknown } | null)?.result;
    if (result === "success" || result === "failure" || result === "cancelled" || result === "skipped") {
      const outputs = (value as { outputs?: unknown }).outputs;
      given[id] = { result, outputs: typeof outputs === "object" && outputs !== null ? idRecord(Object.entries(outputs as Record<string, string>)) : idRecord() };
    }
  }
  return given;
}

/**
 * The needs of a step whose dependencies have ended: from this run's records, then the last run's
 * (dependencies left out by --only/--from), then what ws was given; a dependency none of them
 * knows is left out rather than guessed.
 */
export function needsOf(deps: readonly string[], sources: ReadonlyArray<(id: string) => StepRecord | undefined>, given: Record<string, Need>): Record<string, Need> {
  const needs = idRecord<Need>();
  for (const id of deps) {
    const record = sources.map((source) => source(id)).find((r) => r !== undefined && r.state !== "pending" && r.state !== "running");
    const need = record ? fromRecord(record) : given[id];
    if (need) needs[id] = need;
  }
  return needs;
}

/** The step with WS_NEEDS and WS_NEEDS_FILE in its env (the file written into its state folder). */
export function withNeeds(step: Step, needs: Record<string, Need>, stepDir: string): Step {
  const json = JSON.stringify(needs);
  const file = path.join(stepDir, "needs.json");
  fs.mkdirSync(stepDir, { recursive: true });
  fs.writeFileSync(file, json + "\n");
  const env: Record<string, string> = { ...step.env, WS_NEEDS_FILE: file };
  if (json.length <= MAX_NEEDS_ENV) env.WS_NEEDS = json;
  return { ...step, env };
}
