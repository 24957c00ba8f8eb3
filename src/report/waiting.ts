import { clockTime } from "../format/duration.js";
import type { StepRecord } from "../store/run-state.js";

/** "waiting (quota, until 14:05)": a step parked on its tool's quota, in local time like the tools print it. */
export function waitingLabel(until: string | undefined): string {
  const time = until === undefined ? undefined : clockTime(until);
  return time === undefined ? "waiting (quota)" : `waiting (quota, until ${time})`;
}

/** What a waiting step waits for: its tool's quota, a decision at its approval gate, or its retry's delay. */
export function waitingText(waiting: NonNullable<StepRecord["waiting"]>): string {
  if (waiting.reason === "quota") return waitingLabel(waiting.until);
  if (waiting.reason === "retry") return `waiting to retry (retry_delay, until ${clockTime(waiting.until, true) ?? waiting.until})`;
  return `waiting for approval since ${clockTime(waiting.since) ?? waiting.since}`;
}
