import type { EndReason } from "./end-reason.js";
import type { Usage } from "./usage.js";
import type { Budget } from "../workstream/model.js";

// Re-exported so a listener needs one import for the whole event vocabulary.
export type { EndReason, Usage };

/**
 * Every expected outcome of a run is one of these events. The engine emits them and never
 * prints; the terminal, orchestrator.log, events.jsonl, state.json and the reports are listeners.
 * Listeners switch over `type` exhaustively (see `unreachable`).
 */

export type StepState = "pending" | "running" | "passed" | "failed" | "blocked" | "skipped" | "cancelled";

export type BreakerState = "closed" | "open" | "half-open";

interface Base {
  /** ISO timestamp. */
  at: string;
}

export type RunEvent =
  | (Base & {
      type: "run-start";
      runId: string;
      wsId: string;
      file: string;
      hash: string;
      /** Every step of the workstream, in file order. */
      steps: string[];
      /** The steps this run will try (after --only/--from/--resume). */
      selected: string[];
      maxWorkers: number;
      /** max_workers "auto": fewer workers while the load average is over the cores. */
      adaptive?: boolean | undefined;
      pid: number;
      resume: boolean;
      /** Where the steps run (the worktree, or the project root). */
      workdir: string;
      branch?: string | undefined;
      /** Expected duration of the selected steps (from past runs), for an ETA; undefined without history. */
      estimateMs?: number | undefined;
      /** ms the run spent before this event (choosing and preparing its worktree): part of its duration, measured for the next estimate. */
      setupMs?: number | undefined;
      /** Expected duration of each selected step (ms; history medians), for progress weighted by work. */
      expectedMs?: Record<string, number> | undefined;
      /** Each selected step's share of the overall progress (step.weight, else from history, else 1). */
      weights?: Record<string, number> | undefined;
      /** The file's step groups (their members), for each group's timing in status and the reports. */
      groups?: Array<{ id: string; steps: string[] }> | undefined;
      /** The plan's waves of selected steps, for each wave's timing; left out past WAVE_STEPS steps (see run-workstream.ts). */
      waves?: string[][] | undefined;
      /** What a worktree run started from: the working tree (with `uncommitted` files beyond
       *  HEAD, the first few named in `sample`) or the ref given with --base. */
      base?: { source: string; commit: string; uncommitted: number; sample: string[] } | undefined;
      /** True when the worktree of an earlier run was reused (reset to the base). */
      reused?: boolean | undefined;
      /** The commit steps build on (worktree runs), so a resume starts its steps from the same one. */
      runBase?: string | undefined;
      /** The run's own limits (workstream `budget`), when it has any: the live view shows the share spent. */
      budget?: Budget | undefined;
      /** The limits of the selected steps that have any (step `budget`), by step id. */
      budgets?: Record<string, Budget> | undefined;
    })
  /**
   * A ready step (its dependencies done, or a retry queued) is held back, or the cause changed:
   * what it waits for until its next step-wait, step-start or step-end. `gate`: an approval gate
   * or its tool's breaker (approval-wait and breaker events say which); `lane`: it has a worker
   * and ws prepares its worktree; `retry`: a failed attempt's retry_delay, until `until` (ISO).
   * Reports draw each as its own segment of the timeline.
   */
  | (Base & { type: "step-wait"; step: string; wait: WaitKind; until?: string | undefined })
  | (Base & { type: "step-start"; step: string; attempt: number; tool: string })
  | (Base & { type: "test-start"; step: string; attempt: number; index: number; command: string })
  | (Base & {
      type: "test-end";
      step: string;
      attempt: number;
      index: number;
      command: string;
      passed: boolean;
      reason: EndReason;
      exitCode: number | null;
      durationMs: number;
      log: string;
      /** Last lines of the test's output (for reports and retry feedback). */
      tail: string[];
    })
  | (Base & {
      type: "attempt-end";
      step: string;
      attempt: number;
      passed: boolean;
      reason: EndReason;
      exitCode: number | null;
      signal: string | null;
      durationMs: number;
      log: string;
      tail: string[];
      usage?: Usage | undefined;
      /** Human detail, e.g. the files outside file_scope, or the tool's error message. */
      detail?: string | undefined;
      /** True when the attempt does not count against `retries` (quota / rate limit). */
      free?: boolean | undefined;
      /** A free (quota) attempt: when the tool said its limit resets (ISO); absent, the breaker's cooldown applies. */
      resetAt?: string | undefined;
    })
  | (Base & {
      type: "step-end";
      step: string;
      state: Exclude<StepState, "pending" | "running">;
      reason: EndReason;
      /** Attempts started, across the runs a resume continued (they number the logs). */
      attempts: number;
      /** Of `attempts`, those cut short from outside (Ctrl-C, an abort, a lost race, ws killed): no tries. */
      interrupted?: number | undefined;
      /** Tries (attempts not interrupted) the earlier runs that this one resumed made (absent:
       *  none), so "after 3 attempts" is not said of a step without retries that ran in three runs. */
      earlierTries?: number | undefined;
      durationMs: number;
      usage?: Usage | undefined;
      /** The commit made on the run's branch for a passed step (worktree isolation). */
      commit?: string | undefined;
      /** What the passed attempt wrote to $WS_OUTPUT: recorded here so --resume restores it. */
      outputs?: Record<string, string> | undefined;
      /** A passed step's `artifacts`: the files copied to .worktrees/<id>/artifacts/<step>/, relative to it. */
      artifacts?: string[] | undefined;
      /** One line saying why a failed step failed (the tool's message, the failing test, the fix). */
      detail?: string | undefined;
    })
  /** A gated step whose dependencies are done waits for a decision (`approval` in the file). */
  | (Base & { type: "approval-wait"; step: string; prompt: string; /** When the gate rejects by itself (ISO); absent: no timeout. */ timeoutAt?: string | undefined })
  | (Base & {
      type: "approval-end";
      step: string;
      approved: boolean;
      /** Who decided: the user name of `ws approve`/`ws reject` or of the run's terminal; "ws" for a timeout. */
      by: string;
      /** flag: `ws run --approve`; command: `ws approve`/`ws reject`; prompt: the run's terminal; timeout: nobody decided in time. */
      via: ApprovalVia;
      /** The reason given with a rejection. */
      reason?: string | undefined;
    })
  | (Base & {
      type: "breaker";
      tool: string;
      state: BreakerState;
      failures: number;
      cooldownMs?: number | undefined;
      /** When an open breaker lets a trial through (ISO): the cooldown's end or the quota's reset. */
      until?: string | undefined;
      /** circuit_breaker.per "step": the step whose own breaker this is (absent: the tool's, shared). */
      step?: string | undefined;
    })
  /** level "info": something the user should know once, that needs nothing done (a linked environment). */
  | (Base & { type: "warning"; message: string; step?: string | undefined; level?: "info" | undefined })
  /**
   * What a running agent is doing, from its CLI's own stream (its adapter parses it): a file it
   * edits or reads, a command it runs, another tool it calls, a message, or a shell step's last
   * output line; with the attempt's usage so far when the CLI streams it.
   */
  | (Base & { type: "activity"; step: string; attempt: number; kind: ActivityKind; text: string; usage?: Usage | undefined })
  /** What a running attempt wrote last to $WS_PROGRESS (0..1); emitted only when it changes. */
  | (Base & { type: "progress"; step: string; attempt: number; fraction: number })
  /** Compensations start: `steps` in the order they will run (reverse finish order), those not compensated yet. */
  | (Base & { type: "rollback-start"; steps: string[]; trigger: "failure" | "rollback" | "resume" })
  | (Base & { type: "compensate-start"; step: string; tool: string })
  | (Base & {
      type: "compensate-end";
      step: string;
      passed: boolean;
      reason: EndReason;
      durationMs: number;
      log: string;
      tail: string[];
      /** Worktree runs: the commit on the run's branch that undoes the step's commit. */
      undone?: string | undefined;
    })
  | (Base & { type: "rollback-end"; passed: boolean; failed: string[] })
  | (Base & {
      type: "run-end";
      /** held: an approval gate was rejected under on_reject "hold" (exit 4); --resume --approve continues.
       *  rolled_back: `ws run --rollback` of a run that passed undid its work (exit 0; it did not pass again). */
      outcome: "passed" | "failed" | "cancelled" | "held" | "rolled_back";
      exitCode: number;
      durationMs: number;
      /** Sum of the step durations: what running them one at a time would roughly cost. */
      sequentialMs: number;
      /** sequentialMs minus durationMs (never below 0): the time saved against one at a time. */
      savedMs?: number | undefined;
      /** savedMs / sequentialMs (0..1). */
      savedFraction?: number | undefined;
      /** sequentialMs / (durationMs × workers) (0..1): parallel efficiency. */
      efficiency?: number | undefined;
      /** The run's worker limit the efficiency is measured against. */
      workers?: number | undefined;
    });

/** What an activity event reports (see activity). */
export type ActivityKind = "edit" | "read" | "command" | "tool" | "message" | "output";

/** What a ready step waits for (see step-wait). */
export type WaitKind = "worker" | "rate_limit" | "conflict" | "group" | "gate" | "lane" | "retry";

/** How an approval gate was decided. */
export type ApprovalVia = "flag" | "command" | "prompt" | "timeout";

export type RunEventType = RunEvent["type"];
export type EventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

