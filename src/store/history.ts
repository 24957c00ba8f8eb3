import fs from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "./atomic-write.js";
import { storeError } from "./store-error.js";
import { idRecord } from "../id-record.js";
import type { Workstream } from "../workstream/model.js";

/** Past durations of passed steps, for the critical-path priority and the ETA. */
export interface History {
  steps: Record<string, number[]>; // last 10 passed durations (ms) per step
  /** The last full run with one worker that passed: a measured one-at-a-time time to compare a
   *  parallel run of the same file (`hash`) with, where the summed step times only approximate it. */
  oneWorker?: OneWorkerRun | undefined;
  /** ws's own time, measured over the last runs (see RunOverhead): what the estimate adds to the steps' own. */
  overhead?: { stepMs: number[]; runMs: number[] } | undefined;
}

/**
 * What a run costs beyond its steps' own durations, as one run measured it: per step, the time a
 * worker is held outside the step (the hand-off from the end that freed it, preparing its
 * worktree); per run, the set-up before the first step (the run's worktree) and the wind-down
 * after the last. A 20-step chain of 30 ms steps took 1.9 s, of which 1.3 s were these.
 */
export interface RunOverhead {
  stepMs: number;
  runMs: number;
}

export interface OneWorkerRun {
  runId: string;
  hash: string;
  wallMs: number;
}

const KEEP = 10;

/** Missing or corrupt → empty: history only improves estimates, it never blocks a run. */
export function readHistory(file: string): History {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return { steps: idRecord() };
  }
  const steps = idRecord<number[]>();
  const raw = (value as { steps?: unknown } | null)?.steps;
  if (typeof raw === "object" && raw !== null) {
    for (const [id, list] of Object.entries(raw)) {
      if (!Array.isArray(list)) continue;
      const durations = list.filter((d): d is number => typeof d === "number" && Number.isFinite(d) && d >= 0);
      if (durations.length > 0) steps[id] = durations.slice(-KEEP);
    }
  }
  const one = (value as { oneWorker?: Partial<OneWorkerRun> } | null)?.oneWorker;
  const valid = typeof one?.runId === "string" && typeof one.hash === "string" && typeof one.wallMs === "number" && Number.isFinite(one.wallMs) && one.wallMs > 0;
  const history: History = valid ? { steps, oneWorker: { runId: one.runId!, hash: one.hash!, wallMs: one.wallMs! } } : { steps };
  const overhead = (value as { overhead?: { stepMs?: unknown; runMs?: unknown } } | null)?.overhead;
  const stepMs = durationList(overhead?.stepMs);
  const runMs = durationList(overhead?.runMs);
  if (stepMs.length > 0 && runMs.length > 0) history.overhead = { stepMs, runMs };
  return history;
}

function durationList(list: unknown): number[] {
  return Array.isArray(list) ? list.filter((d): d is number => typeof d === "number" && Number.isFinite(d) && d >= 0).slice(-KEEP) : [];
}

/** The median of the last runs' overheads; undefined before a run measured one. */
export function runOverhead(h: History): RunOverhead | undefined {
  if (!h.overhead) return undefined;
  return { stepMs: median(h.overhead.stepMs) ?? 0, runMs: median(h.overhead.runMs) ?? 0 };
}

/** Merge this run's durations (ms) into the file, keeping the last 10 per step, and the run itself
 *  when it was a full one-worker run; atomic write. */
export function recordDurations(file: string, durations: Record<string, number>, oneWorker?: OneWorkerRun, overhead?: RunOverhead): void {
  const history = readHistory(file);
  if (oneWorker) history.oneWorker = { ...oneWorker, wallMs: Math.round(oneWorker.wallMs) };
  if (overhead) {
    const before = history.overhead ?? { stepMs: [], runMs: [] };
    history.overhead = { stepMs: [...before.stepMs, Math.round(overhead.stepMs)].slice(-KEEP), runMs: [...before.runMs, Math.round(overhead.runMs)].slice(-KEEP) };
  }
  for (const [id, ms] of Object.entries(durations)) {
    if (!Number.isFinite(ms) || ms < 0) continue;
    history.steps[id] = [...(Object.hasOwn(history.steps, id) ? history.steps[id]! : []), Math.round(ms)].slice(-KEEP);
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Not flushed (as state.json): estimates, which a power cut may lose; the rename still keeps
    // a reader from half a file. The flush held the end of every run 0.3-3.5 ms (median) here, tens of
    // ms at worst on a busy disk (bench/NOTES.md, issue 32).
    writeFileAtomicSync(file, JSON.stringify(history, null, 2) + "\n", { fsync: false });
  } catch (error) {
    throw storeError("write the duration history", file, error);
  }
}

export function medianDuration(h: History, stepId: string): number | undefined {
  // Own keys only: a step may be called "constructor".
  const list = Object.hasOwn(h.steps, stepId) ? h.steps[stepId] : undefined;
  return list ? median(list) : undefined;
}

function median(list: readonly number[]): number | undefined {
  if (list.length === 0) return undefined;
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Weights for the critical path: past median durations; a step never seen weighs the mean of the known ones (or 1 s). */
export function stepWeights(ws: Workstream, history: History): { weights: number[]; known: boolean[] } {
  const medians = ws.steps.map((s) => medianDuration(history, s.id));
  const known = medians.filter((m): m is number => m !== undefined);
  const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1000;
  return { weights: medians.map((m) => m ?? fallback), known: medians.map((m) => m !== undefined) };
}
