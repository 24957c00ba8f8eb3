import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomicSync } from "./atomic-write.js";
import { wsPaths, type WsPaths } from "./paths.js";
import { lastRun } from "./query.js";

/** A decision on a step's approval gate, as `ws approve` / `ws reject` leave it for the run. */
export interface ApprovalDecision {
  /** The run it is meant for: a decision left over from another run is not this one's. */
  runId: string;
  approved: boolean;
  by: string;
  at: string;
  reason?: string | undefined;
}

function decisionFile(paths: WsPaths, step: string): string {
  return path.join(paths.approvals, `${step}.json`);
}

/** Written whole or not at all: the run polls the file and must never read half a decision. */
export function writeDecision(paths: WsPaths, step: string, decision: ApprovalDecision): void {
  fs.mkdirSync(paths.approvals, { recursive: true });
  writeFileAtomicSync(decisionFile(paths, step), JSON.stringify(decision) + "\n");
}

/** The decision for `step` in run `runId`, if one was made; anything unreadable counts as none yet. */
export function readDecision(paths: WsPaths, step: string, runId: string): ApprovalDecision | undefined {
  let text: string;
  try {
    text = fs.readFileSync(decisionFile(paths, step), "utf8");
  } catch {
    return undefined;
  }
  try {
    const decision = JSON.parse(text) as ApprovalDecision;
    return decision.runId === runId && typeof decision.approved === "boolean" ? decision : undefined;
  } catch {
    return undefined;
  }
}

/** Who is deciding: the login name, as git and sudo would record it. */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return os.userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers).
    return env.USER ?? env.LOGNAME ?? "unknown";
  }
}

export type DecideOutcome =
  | { kind: "recorded"; runId: string; waiting: boolean }
  /** No run of the workstream is going (never ran, ended, or died). */
  | { kind: "no_live_run"; status: string | undefined }
  | { kind: "not_waiting"; state: string };

/**
 * Leaves a decision for a live run's gate on `step` (checked by the caller to be a gated step of
 * the workstream). A step still pending is decided ahead: it starts without asking.
 */
export function decideGate(options: { cwd: string; wsId: string; step: string; approved: boolean; by: string; reason?: string | undefined; now?: Date }): DecideOutcome {
  const run = lastRun(options.cwd, options.wsId);
  if (!run || run.status !== "running") return { kind: "no_live_run", status: run?.status };
  const record = run.state.steps[options.step];
  if (record && record.state !== "pending") return { kind: "not_waiting", state: record.state };
  const paths = wsPaths(options.cwd, options.wsId);
  const at = (options.now ?? new Date()).toISOString();
  writeDecision(paths, options.step, { runId: run.state.runId, approved: options.approved, by: options.by, at, reason: options.reason });
  return { kind: "recorded", runId: run.state.runId, waiting: record?.waiting?.reason === "approval" };
}
