import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { readEvents } from "./event-log.js";
import type { WsPaths } from "./paths.js";
import { foldEvents, stepRecords, type RunState, type StepRecord } from "./run-state.js";
import { storeError } from "./store-error.js";
import { idRecord } from "../id-record.js";

// Loaded on the first write: `ws status` and `ws list` only read snapshots (start-up, bench/).
let atomic: typeof import("write-file-atomic") | undefined;

/** state.json, replaced atomically (temp file + rename): a reader sees the old or the new one, never half. */
export function writeState(file: string, state: RunState): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Atomic (temp file + rename) but not fsynced: events.jsonl is the source of truth and a
    // stale snapshot is refolded from it, so a flush per write would only slow big runs (bench/).
    atomic ??= createRequire(import.meta.url)("write-file-atomic") as typeof import("write-file-atomic");
    atomic.sync(file, JSON.stringify({ ...state, steps: touchedSteps(state) }) + "\n", { fsync: false });
  } catch (error) {
    throw storeError("write the run state", file, error);
  }
}

/**
 * The step records worth writing: a step this run did not select and no run has started is
 * `untouched(id)`, which readState puts back from `order`. `run --only` of 3 steps of 50 000
 * wrote 4 MB per snapshot, of which 49 997 such records (bench/scale.mjs).
 */
function touchedSteps(state: RunState): Record<string, StepRecord> {
  const steps = idRecord<StepRecord>();
  // Not for-in, which sorts 50 000 keys first; stepRecords is kept per state.
  for (const record of stepRecords(state)) if (!isUntouched(record)) steps[record.id] = record;
  return steps;
}

function untouched(id: string): StepRecord {
  return { id, state: "pending", attempts: 0, selected: false };
}

function isUntouched(record: StepRecord): boolean {
  if (record.state !== "pending" || record.attempts !== 0 || record.selected) return false;
  // Named reads, not for-in with a computed key: ~0.2 µs a record, 50 000 records per snapshot.
  for (const key of OPTIONAL) if (record[key] !== undefined) return false;
  return true;
}

/** Every field untouched(id) leaves out; the type makes a new StepRecord field a compile error here until listed. */
const OPTIONAL = Object.keys({
  reason: true,
  interrupted: true,
  inAttempt: true,
  startedAt: true,
  endedAt: true,
  durationMs: true,
  log: true,
  usage: true,
  commit: true,
  commitPending: true,
  compensation: true,
  outputs: true,
  detail: true,
  tool: true,
  waiting: true,
  approval: true,
} satisfies Record<Exclude<keyof StepRecord, "id" | "state" | "attempts" | "selected">, true>) as Array<keyof StepRecord>;

/** undefined if missing or not a snapshot we understand (corrupt, or another version). */
export function readState(file: string): RunState | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<RunState> | null;
    if (value?.version !== 1 || typeof value.steps !== "object" || value.steps === null || !Array.isArray(value.order)) return undefined;
    const written = value.steps as Record<string, StepRecord | undefined>;
    // Keyed by step ids and tool names, which may be "constructor": no inherited members.
    const steps = idRecord<StepRecord>();
    for (const id of value.order) steps[id] = Object.hasOwn(written, id) ? written[id]! : untouched(id);
    for (const [id, record] of Object.entries(written)) if (record && !(id in steps)) steps[id] = record;
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
