import type { Clock } from "./clock.js";
import { onAbort } from "./on-abort.js";
import { because, type EndReason } from "../events/end-reason.js";
import type { OnFailure } from "../workstream/model.js";
import type { WaitKind } from "../events/run-event.js";
import { Admission } from "./admission.js";
import { AnyGroups, buildGraph, type Board } from "./any-groups.js";
import { Readiness, type StopMode } from "./readiness.js";

/**
 * The scheduler walks the graph and limits concurrency; it knows nothing about processes, tools
 * or files. It is driven by `run(node)` (one unit of work: an attempt of a step) and answers which
 * node starts next: the ready node with the highest priority (critical path) that no constraint
 * holds back. Kept pure of I/O so a virtual clock and a fake `run` can property-test it.
 *
 * Its pieces: readiness.ts (which nodes may start), admission.ts (which of them starts now),
 * any-groups.ts (`any` groups, races, group timeouts); this file is the loop that joins them.
 */

type FinalState = "passed" | "failed" | "blocked" | "skipped" | "cancelled";

export interface Final {
  state: FinalState;
  reason: EndReason;
}

/** What one unit of work ended with: a final state, or "put me back in the queue" (a retry). */
/** `blocked` without running: the unit found it cannot (its tool unusable); it blocks its dependents like a failure. */
/** `delayMs`: the retry may not start before that long from now (retry_delay); no worker is held meanwhile. */
export type UnitResult = { final: true; state: "passed" | "failed" | "blocked" | "cancelled" | "skipped"; reason: EndReason } | { final: false; delayMs?: number | undefined };

export interface SchedulerGroup {
  /** For `blocked_by:<group>` reasons. */
  id?: string | undefined;
  members: readonly number[];
  sequential: boolean;
  maxWorkers?: number | undefined;
  /** any: the group passes once one member passes (default all). */
  succeed?: "all" | "any" | undefined;
  /** With any: the first member to pass wins; the others are stopped (`lost_race`). */
  cancelRest?: boolean | undefined;
  /** The whole group's limit from its first start: members still running fail, the rest are cancelled (`group_timeout`). */
  timeoutMs?: number | undefined;
}

export type Gate = { ok: true; token?: unknown } | { ok: false; retryInMs: number };

/** When a step runs, like GitHub's `if:`; see `RunIf` in the workstream model. */
export type RunIfMode = "success" | "failure" | "always" | "success_or_skipped";

interface SchedulerOptions {
  /** Step ids by node, for `blocked_by:<id>` reasons. */
  ids: readonly string[];
  /** deps[i]: the nodes i depends on (groups expanded). */
  deps: number[][];
  /** Nodes this run may start; the others count as satisfied dependencies and are left alone. */
  selected: ReadonlySet<number>;
  /** A function is read at each admission (max_workers "auto" follows the load; see adaptive-workers.ts). */
  maxWorkers: number | (() => number);
  /** Minimum gap between two starts, ms. */
  rateLimitMs: number;
  onFailure: OnFailure;
  /** Higher runs first; ties by node index (file order). Omit for FIFO (order of becoming ready). */
  priority?: readonly number[];
  /** Pairs that must never run at the same time (file_conflicts: serialize). */
  exclusive?: ReadonlyArray<readonly [number, number]>;
  /** Step groups: sequential ones run members one at a time in listed order; maxWorkers caps members. */
  groups?: ReadonlyArray<SchedulerGroup>;
  /** groupDeps[i]: the `succeed: "any"` groups node i depends on as a whole (their members are not in deps[i]). */
  groupDeps?: readonly number[][];
  /** Per-node admission (circuit breakers); a refusal says when to ask again. */
  gate?: (node: number) => Gate;
  clock: Clock;
  run: (node: number, signal: AbortSignal, token: unknown) => Promise<UnitResult>;
  /** A ready node is held back (see Admission), or was admitted and its unit is about to run ("lane"); `until` (epoch ms) for a retry's delay. */
  onWait?: (node: number, wait: WaitKind, until?: number) => void;
  /** Nodes that may not start before then (epoch ms): a retry delay an interrupted run left, which a resume keeps. */
  notBefore?: ReadonlyMap<number, number>;
  /** A node reached a final state (including blocked/cancelled ones that never ran). */
  onFinal?: (node: number, final: Final) => void;
  /** Per node (default "success"): `always` nodes run once their dependencies ended, whatever the result; `failure` nodes only if one failed. */
  runIf?: readonly RunIfMode[];
  /** The selected nodes were named one by one (--only): a run_if with no dependency in the run is the caller's decision. */
  named?: boolean;
  /** External cancellation (Ctrl-C): stop starting, abort running units; `always` nodes still run. */
  signal?: AbortSignal;
  /** A second Ctrl-C: abort everything, `always` nodes included. */
  hardSignal?: AbortSignal;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The scheduler's main loop: admit ready units, settle what ends, stop on a failure or a signal,
 * sleep until something ends or a limit lifts.
 */
export async function schedule(options: SchedulerOptions): Promise<Map<number, Final>> {
  const { clock } = options;
  const graph = buildGraph(options);
  const board: Board = { finals: new Map(), running: new Map() };
  const { finals, running } = board;
  const unitErrors: unknown[] = [];
  let wake = deferred();
  let timer: AbortController | undefined;

  const readiness: Readiness = new Readiness(graph, board, {
    runIf: (node) => options.runIf?.[node] ?? "success",
    named: options.named === true,
    settled: (node, final) => {
      if (node < graph.steps) options.onFinal?.(node, final);
    },
    evaluateGroup: (node, gi) => groups.evaluate(node, gi),
  });
  const groups: AnyGroups = new AnyGroups(graph, board, { clock, settle: (node, final) => readiness.settle(node, final), wake: () => wake.resolve() });
  const { rateLimitMs, exclusive, priority, gate, onWait, notBefore } = options;
  const admission = new Admission(graph, board, readiness, { clock, workers: () => workerLimit(options.maxWorkers), rateLimitMs, exclusive, priority, gate, onWait, notBefore });

  readiness.evaluateAll();

  const stop = (mode: StopMode) => {
    readiness.stopped = mode;
    if (mode !== "failure") for (const [node, controller] of running) if (!readiness.mayStart(node)) controller.abort();
    readiness.sweep();
    wake.resolve();
  };
  const unlisten = [onAbort(options.signal, () => stop("interrupt")), onAbort(options.hardSignal, () => stop("hard"))];

  const settleUnit = (node: number, result: UnitResult) => {
    running.delete(node);
    if (!result.final) {
      // Held before it is queued again, so the admission this wake-up runs already sees the delay.
      if ((result.delayMs ?? 0) > 0) admission.holdUntil(node, clock.now() + result.delayMs!);
      return readiness.requeue(node);
    }
    readiness.settle(node, groups.finalOf(node, result));
    if (groups.failsRun(node) && options.onFailure !== "continue" && !readiness.stopped) stop(options.onFailure === "abort" ? "abort" : "failure");
  };
  const finish = (node: number, result: UnitResult) => {
    // The loop waits on `wake`: even when settling throws (a listener failing on the step-end it
    // emits), the loop must wake, or the run would hang instead of ending with that error.
    try {
      settleUnit(node, result);
    } finally {
      wake.resolve();
    }
  };
  const start = (node: number, token: unknown) => {
    readiness.take(node);
    const controller = new AbortController();
    running.set(node, controller);
    groups.started(node);
    options.onWait?.(node, "lane");
    options
      .run(node, controller.signal, token)
      .then((result) => finish(node, result))
      .catch((error: unknown) => {
        // A bug in a unit must not hang the run: record it and let the caller rethrow.
        unitErrors.push(error);
        try {
          finish(node, { final: true, state: "failed", reason: because("tool_error") });
        } catch (again) {
          // The same failure again (a listener that cannot write): recorded, the loop is awake.
          unitErrors.push(again);
        }
      });
  };

  for (;;) {
    const nextWakeIn = admission.admit(start);
    if (running.size === 0 && (readiness.size === 0 || nextWakeIn === Infinity)) break;
    if (nextWakeIn !== Infinity) {
      timer = new AbortController();
      // Bound to this round's deferred: a cancelled timer resolving later must not wake (and spin) the next round.
      const round = wake;
      void clock.sleep(nextWakeIn, timer.signal).then(() => round.resolve());
    }
    await wake.promise;
    timer?.abort();
    timer = undefined;
    wake = deferred();
  }
  for (const off of unlisten) off();
  groups.dispose();

  readiness.settleRest();
  if (unitErrors.length > 0) throw unitErrors[0];
  for (const node of graph.groupOfNode.keys()) finals.delete(node);
  return finals;
}

/** Calls `stop` once `signal` aborts (at once if it has); returns how to stop listening. */
/** Never below one: a limit of zero would leave ready steps waiting with nothing to wake them. */
function workerLimit(maxWorkers: number | (() => number)): number {
  return Math.max(1, typeof maxWorkers === "number" ? maxWorkers : maxWorkers());
}
