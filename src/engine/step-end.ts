import type { RunEvent } from "../events/run-event.js";

type StepEndEvent = Extract<RunEvent, { type: "step-end" }>;

/** What a step ended with; a step that never ran (skipped, blocked, refused, rejected) gives no counts. */
export type StepEnd = Omit<StepEndEvent, "type" | "at" | "attempts" | "durationMs"> & {
  attempts?: number | undefined;
  durationMs?: number | undefined;
};

/**
 * The one place a step-end event is built, whether the step ran (StepRun) or was decided without
 * running (StepUnits): its shape, and what is left out (no interrupted count of 0, outputs only
 * for a passed step), are the same for every way a step ends.
 */
export function stepEndEvent(at: string, end: StepEnd): StepEndEvent {
  const outputs = end.state === "passed" && end.outputs !== undefined && Object.keys(end.outputs).length > 0 ? end.outputs : undefined;
  return {
    type: "step-end",
    at,
    step: end.step,
    state: end.state,
    reason: end.reason,
    attempts: end.attempts ?? 0,
    interrupted: end.interrupted !== undefined && end.interrupted > 0 ? end.interrupted : undefined,
    earlierTries: end.earlierTries !== undefined && end.earlierTries > 0 ? end.earlierTries : undefined,
    durationMs: end.durationMs ?? 0,
    usage: end.usage,
    commit: end.commit,
    outputs,
    artifacts: end.state === "passed" && end.artifacts !== undefined && end.artifacts.length > 0 ? end.artifacts : undefined,
    detail: end.detail,
  };
}
