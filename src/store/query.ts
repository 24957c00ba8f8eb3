import fs from "node:fs";
import path from "node:path";
import { assertValidId, listWorkstreamFiles, stemOf } from "../workstream/locate-file.js";
import { readLockHolder } from "./lock.js";
import { STATE_FOLDER, wsPaths } from "./paths.js";
import type { EndReason, ReasonKind } from "../events/end-reason.js";
import { settleInterrupted, stepRecords, type RunState } from "./run-state.js";
import { loadRunState } from "./snapshot.js";

/**
 * The one way `ws status`, `ws list` and `ws logs` read past and running runs, so they can never
 * disagree about one (before this, `ws list` read state.json directly and called a kill -9'd run
 * "running" while `ws status` called it interrupted).
 */

export type RunStatus = RunState["status"] | "interrupted";

export interface LastRun {
  state: RunState;
  /** The run says it is running but its process holds no lock any more (kill -9, crash, power loss). */
  interrupted: boolean;
  /** What to call the run: its recorded status, or `interrupted`. */
  status: RunStatus;
}

/**
 * The last run of `wsId`, or undefined when it never ran. The id is checked before any file
 * access: `../../x` must not read state from outside `.worktrees/`.
 */
export function lastRun(projectRoot: string, wsId: string): LastRun | undefined {
  assertValidId(wsId);
  const paths = wsPaths(projectRoot, wsId);
  const state = loadRunState(paths);
  if (!state) return undefined;
  upgradeReasons(state);
  const holder = state.status === "running" ? readLockHolder(paths.lock) : undefined;
  const interrupted = state.status === "running" && !(holder?.alive && holder.pid === state.pid);
  if (interrupted) settleInterrupted(state);
  return { state, interrupted, status: interrupted ? "interrupted" : state.status };
}

/**
 * Runs recorded before EndReason carried its data in fields wrote it as a string (`exit:3`,
 * `blocked_by:a`); read them as the structured form, so `ws status` of an old run still says why.
 */
function upgradeReasons(state: RunState): void {
  for (const record of stepRecords(state)) {
    const legacy: unknown = record.reason;
    if (typeof legacy === "string") record.reason = parseLegacyReason(legacy);
  }
}

export function parseLegacyReason(text: string): EndReason {
  const [kind, ...rest] = text.split(":");
  const value = rest.join(":");
  if (kind === "exit" && /^-?\d+$/.test(value)) return { kind: "exit", code: Number(value) };
  if (kind === "signal" && value) return { kind: "signal", signal: value };
  if (kind === "blocked_by" && value) return { kind: "blocked_by", step: value };
  return { kind: text as ReasonKind };
}

/** Whether `wsId` has a state folder with an event log (it ran, or is running). */
export function hasRun(projectRoot: string, wsId: string): boolean {
  assertValidId(wsId);
  return fs.existsSync(wsPaths(projectRoot, wsId).events);
}

/** Ids with a workstream file in `dir` or a run under `.worktrees/`, sorted. */
export function knownIds(projectRoot: string, dir: string): string[] {
  const ids = new Set(listWorkstreamFiles(dir).map(stemOf));
  const stateRoot = path.join(projectRoot, STATE_FOLDER);
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(stateRoot, { withFileTypes: true });
  } catch {
    // No runs yet (or an unreadable folder, which `ws run` reports when it needs it).
  }
  for (const entry of entries) {
    if (entry.isDirectory() && fs.existsSync(path.join(stateRoot, entry.name, "events.jsonl"))) ids.add(entry.name);
  }
  return [...ids].sort();
}

export type AttemptLogs =
  | { kind: "found"; attempt: number; attempts: number[]; files: string[] }
  | { kind: "no-logs" }
  | { kind: "no-attempt"; attempt: number; attempts: number[] };

/** The attempts of a step that left a log, ascending. */
export function loggedAttempts(projectRoot: string, wsId: string, step: string): number[] {
  assertValidId(wsId);
  const dir = wsPaths(projectRoot, wsId).stepDir(step);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((f) => /^attempt-(\d+)\.log$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** One attempt's tool log followed by its acceptance tests' logs; the latest attempt by default. */
export function attemptLogs(projectRoot: string, wsId: string, step: string, attempt?: number): AttemptLogs {
  const attempts = loggedAttempts(projectRoot, wsId, step);
  if (attempts.length === 0) return { kind: "no-logs" };
  const chosen = attempt ?? attempts[attempts.length - 1]!;
  if (!attempts.includes(chosen)) return { kind: "no-attempt", attempt: chosen, attempts };
  const paths = wsPaths(projectRoot, wsId);
  const pattern = new RegExp(`^attempt-${chosen}\\.test-(\\d+)\\.log$`);
  const tests = fs
    .readdirSync(paths.stepDir(step))
    .map((f) => pattern.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  return { kind: "found", attempt: chosen, attempts, files: [paths.attemptLog(step, chosen), ...tests.map((k) => paths.testLog(step, chosen, k))] };
}

/**
 * Byte offset in orchestrator.log where the last run's lines start (0 when it cannot tell).
 * Every run begins with a `run <runId> of <wsId>` line (report/event-line.ts).
 */
export function lastRunLogOffset(projectRoot: string, wsId: string): number {
  const run = lastRun(projectRoot, wsId);
  if (!run) return 0;
  let text: string;
  try {
    text = fs.readFileSync(wsPaths(projectRoot, wsId).log, "utf8");
  } catch {
    return 0;
  }
  const marker = ` run ${run.state.runId} of ${wsId}`;
  const at = text.lastIndexOf(marker);
  if (at < 0) return 0;
  const lineStart = text.lastIndexOf("\n", at) + 1;
  return Buffer.byteLength(text.slice(0, lineStart), "utf8");
}
