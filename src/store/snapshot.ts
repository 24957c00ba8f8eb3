import fs from "node:fs";
import path from "node:path";
import { readEvents } from "./event-log.js";
import type { WsPaths } from "./paths.js";
import { foldEvents, isUntouched, pendingRecord, stepRecords, type RunState, type StepRecord } from "./run-state.js";
import { storeError } from "./store-error.js";
import { writeFileAtomicSync } from "./atomic-write.js";
import { idRecord } from "../id-record.js";

/** state.json, replaced atomically (temp file + rename): a reader sees the old or the new one, never half. */
export function writeState(file: string, state: RunState): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Atomic (temp file + rename) but not fsynced: events.jsonl is the source of truth and a
    // stale snapshot is refolded from it, so a flush per write would only slow big runs (bench/).
    writeFileAtomicSync(file, JSON.stringify({ ...state, steps: touchedSteps(state) }) + "\n", { fsync: false });
  } catch (error) {
    throw storeError("write the run state", file, error);
  }
}

/**
 * The step records worth writing: a step this run did not select and no run has started is
 * `pendingRecord(id, false)`, which readState puts back from `order`. `run --only` of 3 steps of
 * 50 000 wrote 4 MB per snapshot, of which 49 997 such records (bench/scale.mjs).
 */
function touchedSteps(state: RunState): Record<string, StepRecord> {
  const steps = idRecord<StepRecord>();
  // Not for-in, which sorts 50 000 keys first; stepRecords is kept per state.
  for (const record of stepRecords(state)) if (!isUntouched(record)) steps[record.id] = record;
  return steps;
}

/** undefined if missing or not a snapshot we understand (corrupt, or another version). */
export function readState(file: string): RunState | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<RunState> | null;
    if (value?.version !== 1 || typeof value.steps !== "object" || value.steps === null || !Array.isArray(value.order)) return undefined;
    const written = value.steps as Record<string, StepRecord | undefined>;
    // Keyed by step ids and tool names, which may be "constructor": no inherited members.
    const steps = idRecord<StepRecord>();
    for (const id of value.order) steps[id] = Object.hasOwn(written, id) ? written[id]! : pendingRecord(id, false);
    return { ...value, steps, breakers: idRecord(Object.entries(value.breakers ?? {})) } as RunState;
  } catch {
    return undefined;
  }
}

/**
 * state.json if present and not older than events.jsonl's last event, else fold events.jsonl.
 *
 * "Not older" is decided by modification time, strictly: the engine appends events between
 * snapshots, and equal times (coarse file-system clocks) fall back to folding, which is always
 * right and only costs reading the log.
 */
export function loadRunState(paths: WsPaths): RunState | undefined {
  const stateTime = mtimeNs(paths.state);
  const eventsTime = mtimeNs(paths.events);
  if (stateTime !== undefined && (eventsTime === undefined || stateTime > eventsTime)) {
    const state = readState(paths.state);
    if (state) return state;
  }
  if (eventsTime === undefined) return undefined;
  return foldEvents(readEvents(paths.events).events);
}

function mtimeNs(file: string): bigint | undefined {
  try {
    return fs.statSync(file, { bigint: true }).mtimeNs;
  } catch {
    return undefined;
  }
}
