import type { Clock } from "./clock.js";
import { because, type EndReason } from "../events/end-reason.js";
import type { OnFailure } from "../workstream/model.js";

/**
 * The scheduler walks the graph and limits concurrency; it knows nothing about processes, tools
 * or files. It is driven by `run(node)` (one unit of work: an attempt of a step) and answers which
 * node starts next: the ready node with the highest priority (critical path) that no constraint
 * holds back. Kept pure of I/O so a virtual clock and a fake `run` can property-test it.
 */

type FinalState = "passed" | "failed" | "blocked" | "skipped" | "cancelled";

export interface Final {
  state: FinalState;
  reason: EndReason;
}

/** What one unit of work ended with: a final state, or "put me back in the queue" (a retry). */
/** `blocked` without running: the unit found it cannot (its tool unusable); it blocks its dependents like a failure. */
export type UnitResult = { final: true; state: "passed" | "failed" | "blocked" | "cancelled" | "skipped"; reason: EndReason } | { final: false };

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
export type RunIfMode = "success" | "failure" | "always";

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
 * The scheduler's main loop: start ready units by priority within the worker, rate, scope,
 * group and breaker limits, settle what ends, decide what becomes ready. Kept as one loop over
 * shared state (past the 100-line rule) so every start decision reads in one place.
 */
export async function schedule(options: SchedulerOptions): Promise<Map<number, Final>> {
  const { clock } = options;
  const steps = options.deps.length;
  // An `any` group is a virtual node after the steps: it depends on its members, never runs, and
  // its result (passed once a member passes) is what its dependents wait for.
  const groupList = options.groups ?? [];
  const groupNode = new Map<number, number>();
  groupList.forEach((g, gi) => {
    if (g.succeed === "any") groupNode.set(gi, steps + groupNode.size);
  });
  const groupOfNode = new Map([...groupNode].map(([gi, node]) => [node, gi]));
  const n = steps + groupNode.size;
  // Per-node structures are shared or made only where needed: `--only` of 3 steps of 50 000 built
  // five arrays of 50 000 arrays here (bench/scale.mjs).
  const deps: Array<readonly number[]> = options.deps.map((ds, i) => {
    const groups = options.groupDeps?.[i];
    return groups?.length ? [...ds, ...groups.map((gi) => groupNode.get(gi)).filter((x): x is number => x !== undefined)] : ds;
  });
  for (const [gi] of groupNode) deps.push(groupList[gi]?.members ?? []);
  const selected = new Set(options.selected);
  for (const [gi, node] of groupNode) if (groupList[gi]?.members.some((m) => selected.has(m))) selected.add(node);
  const ids = [...options.ids, ...[...groupNode.keys()].map((gi) => groupList[gi]?.id ?? `group-${gi}`)];
  const finals = new Map<number, Final>();
  const runIf = (node: number): RunIfMode => options.runIf?.[node] ?? "success";
  const waitsOn = effectiveDeps(deps, selected, runIf);
  const dependents: Array<number[] | undefined> = [];
  waitsOn.forEach((ds, i) => ds.forEach((d) => (dependents[d] ??= []).push(i)));
  /** Why a running unit was aborted, when it was not a plain cancellation (a lost race, a group timeout). */
  const abortedWith = new Map<number, EndReason>();
  const groupTimers: AbortController[] = [];

  const conflictsOf: Array<number[] | undefined> = [];
  for (const [a, b] of options.exclusive ?? []) {
    if (a < n) (conflictsOf[a] ??= []).push(b);
    if (b < n) (conflictsOf[b] ??= []).push(a);
  }
  const groupsOf: Array<number[] | undefined> = [];
  (options.groups ?? []).forEach((g, gi) => g.members.forEach((m) => m < n && (groupsOf[m] ??= []).push(gi)));

  const running = new Map<number, AbortController>();
  const unitErrors: unknown[] = [];
  const readySince = new Map<number, number>(); // node → sequence number (FIFO order)
  let sequence = 0;
  /** failure: on_failure stop; abort: on_failure abort; interrupt: Ctrl-C; hard: a second Ctrl-C. */
  let stopped: "failure" | "abort" | "interrupt" | "hard" | undefined;
  let lastStart = -Infinity;
  let wake = deferred();
  let timer: AbortController | undefined;

  const satisfied = (d: number) => {
    if (!selected.has(d)) return true;
    const f = finals.get(d);
    return f !== undefined && (f.state === "passed" || f.state === "skipped");
  };
  const isBad = (d: number) => {
    const f = finals.get(d);
    return selected.has(d) && (f?.state === "failed" || f?.state === "blocked");
  };
  /** Whether a node may still start under the current stop mode: failure handlers and `always` outlive a stop. */
  const mayStart = (node: number) =>
    stopped === undefined || ((stopped === "failure" || stopped === "abort") && runIf(node) !== "success") || (stopped === "interrupt" && runIf(node) === "always");
  // Settling a node re-evaluates its dependents; a worklist rather than recursion, so a 10k-step chain cannot overflow the stack.
  const toEvaluate: number[] = [];
  let evaluating = false;
  const settle = (node: number, final: Final) => {
    if (finals.has(node)) return;
    finals.set(node, final);
    readySince.delete(node);
    if (node < steps) options.onFinal?.(node, final);
    toEvaluate.push(...(dependents[node] ?? []));
    if (evaluating) return;
    evaluating = true;
    while (toEvaluate.length > 0) evaluate(toEvaluate.pop()!);
    evaluating = false;
  };
  const blockedBy = (node: number): EndReason => {
    const f = finals.get(node);
    // Name the root cause: a step blocked behind a blocked step is blocked by the same failure.
    return f?.state === "blocked" ? f.reason : { kind: "blocked_by", step: ids[node] ?? String(node) };
  };
  /** Stops a group's members that have not ended: running ones aborted with `reason`, the rest settled. */
  const stopMembers = (gi: number, reason: EndReason, keep?: number) => {
    for (const m of groupList[gi]?.members ?? []) {
      if (m === keep || finals.has(m) || !selected.has(m)) continue;
      const controller = running.get(m);
      if (controller) {
        abortedWith.set(m, reason);
        controller.abort(reason);
      } else {
        settle(m, { state: "cancelled", reason });
      }
    }
  };
  /** An `any` group's node: passed with its first passed member (a race: once it stopped the others), failed when none can pass. */
  const evaluateGroup = (node: number, gi: number) => {
    const members = (groupList[gi]?.members ?? []).filter((m) => selected.has(m));
    const winner = members.find((m) => finals.get(m)?.state === "passed");
    if (winner !== undefined && groupList[gi]?.cancelRest) {
      stopMembers(gi, because("lost_race"), winner);
      // Dependents start once the losers have ended and dropped their changes, never beside them.
      if (members.every((m) => finals.has(m))) settle(node, { state: "passed", reason: because("passed") });
      return;
    }
    if (winner !== undefined || members.length === 0) return settle(node, { state: "passed", reason: because("passed") });
    if (!members.every((m) => finals.has(m))) return;
    if (members.every((m) => finals.get(m)?.state === "skipped")) return settle(node, { state: "skipped", reason: because("skipped") });
    const timedOut = members.some((m) => finals.get(m)?.reason.kind === "group_timeout");
    settle(node, { state: "failed", reason: because(timedOut ? "group_timeout" : "tests_failed") });
  };
  const startGroupTimers = (node: number) => {
    for (const gi of groupsOf[node] ?? []) {
      const group = groupList[gi];
      if (!group?.timeoutMs || groupTimers[gi]) continue;
      const controller = (groupTimers[gi] = new AbortController());
      void clock.sleep(group.timeoutMs, controller.signal).then(() => {
        if (controller.signal.aborted) return;
        stopMembers(gi, because("group_timeout"));
        wake.resolve();
      });
    }
  };
  /** Decides a node that has not started: ready, blocked, skipped by its run_if, cancelled by a stop, or not yet. */
  const evaluate = (node: number) => {
    if (!selected.has(node) || finals.has(node) || running.has(node) || readySince.has(node)) return;
    const gi = groupOfNode.get(node);
    if (gi !== undefined) return evaluateGroup(node, gi);
    const ds = waitsOn[node] ?? [];
    const mode = runIf(node);
    if (mode === "success") {
      const bad = ds.find(isBad);
      if (bad !== undefined) return settle(node, { state: "blocked", reason: blockedBy(bad) });
    }
    if (!mayStart(node)) return settle(node, { state: "cancelled", reason: because("cancelled") });
    if (mode === "success") {
      if (ds.every(satisfied)) readySince.set(node, sequence++);
      return;
    }
    if (!ds.every((d) => !selected.has(d) || finals.has(d))) return;
    // Named by --only with none of its dependencies in the run (a CI job whose `if: failure()` already decided): it runs.
    const decidedElsewhere = options.named === true && !ds.some((d) => selected.has(d));
    if (mode === "always" || decidedElsewhere || ds.some(isBad)) readySince.set(node, sequence++);
    else settle(node, { state: "skipped", reason: { kind: "run_if", condition: "failure" } });
  };
  /** After a stop: whatever may no longer start ends now, so `always` steps behind it can run. */
  const sweep = () => {
    for (let i = 0; i < n; i++) if (!running.has(i)) evaluate(i);
    for (const node of [...readySince.keys()]) {
      if (mayStart(node)) continue;
      readySince.delete(node);
      settle(node, { state: "cancelled", reason: because("cancelled") });
    }
  };

  for (let i = 0; i < n; i++) evaluate(i);

  const priorityOf = (node: number) => options.priority?.[node] ?? 0;
  const better = (a: number, b: number) => {
    if (options.priority) {
      const pa = priorityOf(a);
      const pb = priorityOf(b);
      if (pa !== pb) return pa > pb;
      return a < b;
    }
    return (readySince.get(a) ?? 0) < (readySince.get(b) ?? 0);
  };
  const groupAllows = (node: number) =>
    (groupsOf[node] ?? []).every((gi) => {
      const group = options.groups?.[gi];
      if (!group) return true;
      const members = group.members;
      const active = members.filter((m) => running.has(m)).length;
      if (group.sequential) {
        if (active > 0) return false;
        // Listed order: every earlier selected member must have ended.
        for (const m of members) {
          if (m === node) break;
          if (selected.has(m) && !finals.has(m)) return false;
        }
      }
      return group.maxWorkers === undefined || active < group.maxWorkers;
    });

  const stop = (mode: NonNullable<typeof stopped>) => {
    stopped = mode;
    if (mode !== "failure") for (const [node, controller] of running) if (!mayStart(node)) controller.abort();
    sweep();
    wake.resolve();
  };
  const externalAbort = () => stop("interrupt");
  const hardAbort = () => stop("hard");
  if (options.signal?.aborted) externalAbort();
  else options.signal?.addEventListener("abort", externalAbort, { once: true });
  if (options.hardSignal?.aborted) hardAbort();
  else options.hardSignal?.addEventListener("abort", hardAbort, { once: true });

  const finish = (node: number, result: UnitResult) => {
    // The loop waits on `wake`: even when settling throws (a listener failing on the step-end it
    // emits), the loop must wake, or the run would hang instead of ending with that error.
    try {
      settleUnit(node, result);
    } finally {
      wake.resolve();
    }
  };
  const settleUnit = (node: number, result: UnitResult) => {
    running.delete(node);
    if (!result.final) {
      // A retry goes back into the queue behind nothing: it keeps its priority.
      if (mayStart(node)) readySince.set(node, sequence++);
      else settle(node, { state: "cancelled", reason: because("cancelled") });
    } else {
      // The unit reports a plain cancellation; the scheduler knows when it was a lost race or a group timeout.
      const why = result.state === "cancelled" ? abortedWith.get(node) : undefined;
      settle(node, why ? { state: why.kind === "group_timeout" ? "failed" : "cancelled", reason: why } : { state: result.state, reason: result.reason });
      // A failed member of an `any` group fails the run only once its group has failed.
      const failedNow = [node, ...(groupsOf[node] ?? []).map((g) => groupNode.get(g)).filter((x): x is number => x !== undefined)].filter((x) => finals.get(x)?.state === "failed");
      const decisive = failedNow.some((x) => x >= steps || !(groupsOf[x] ?? []).some((g) => groupNode.has(g)));
      if (decisive && options.onFailure !== "continue" && !stopped) stop(options.onFailure === "abort" ? "abort" : "failure");
    }
  };

  for (;;) {
    let nextWakeIn = Infinity;
    // readySince only ever holds nodes that may start under the current stop mode (see sweep).
    while (readySince.size > 0 && running.size < workerLimit(options.maxWorkers)) {
      const waitForRate = lastStart + options.rateLimitMs - clock.now();
      if (waitForRate > 0) {
        nextWakeIn = Math.min(nextWakeIn, waitForRate);
        break;
      }
      let best: number | undefined;
      let bestToken: unknown;
      for (const node of readySince.keys()) {
        if (best !== undefined && !better(node, best)) continue;
        if ((conflictsOf[node] ?? []).some((c) => running.has(c))) continue;
        if (!groupAllows(node)) continue;
        const gate = options.gate?.(node) ?? { ok: true };
        if (!gate.ok) {
          nextWakeIn = Math.min(nextWakeIn, gate.retryInMs);
          continue;
        }
        best = node;
        bestToken = gate.token;
      }
      if (best === undefined) break;
      const node = best;
      readySince.delete(node);
      const controller = new AbortController();
      running.set(node, controller);
      lastStart = clock.now();
      startGroupTimers(node);
      options
        .run(node, controller.signal, bestToken)
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
    }
    if (running.size === 0 && (readySince.size === 0 || nextWakeIn === Infinity)) break;
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
  options.signal?.removeEventListener("abort", externalAbort);
  options.hardSignal?.removeEventListener("abort", hardAbort);
  for (const controller of groupTimers) controller?.abort();

  // Whatever never started: blocked behind a failure, or cancelled by stop/abort.
  for (let i = 0; i < n; i++) {
    if (!selected.has(i) || finals.has(i)) continue;
    const failedDep = (deps[i] ?? []).find((d) => {
      const f = finals.get(d);
      return f !== undefined && (f.state === "failed" || f.state === "blocked");
    });
    settle(i, failedDep !== undefined ? { state: "blocked", reason: blockedBy(failedDep) } : { state: "cancelled", reason: because("cancelled") });
  }
  if (unitErrors.length > 0) throw unitErrors[0];
  for (const node of groupOfNode.keys()) finals.delete(node);
  return finals;
}

/**
 * What each node waits for. A `failure` node without dependencies handles a failure anywhere in
 * the run, so it waits for every node except the descendants of such handlers (which would wait
 * for it in turn: a cycle).
 */
function effectiveDeps(deps: ReadonlyArray<readonly number[]>, selected: ReadonlySet<number>, runIf: (node: number) => RunIfMode): ReadonlyArray<readonly number[]> {
  const handlers: number[] = [];
  for (const i of selected) if (i < deps.length && runIf(i) === "failure" && (deps[i] ?? []).length === 0) handlers.push(i);
  handlers.sort((a, b) => a - b);
  if (handlers.length === 0) return deps;
  const dependents: number[][] = deps.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]?.push(i)));
  const downstream = new Set<number>(handlers);
  const stack = [...handlers];
  while (stack.length > 0) {
    for (const next of dependents[stack.pop()!] ?? []) {
      if (downstream.has(next)) continue;
      downstream.add(next);
      stack.push(next);
    }
  }
  const watched = [...selected].filter((i) => !downstream.has(i));
  return deps.map((ds, i) => (handlers.includes(i) ? watched : ds));
}

/** Never below one: a limit of zero would leave ready steps waiting with nothing to wake them. */
function workerLimit(maxWorkers: number | (() => number)): number {
  return Math.max(1, typeof maxWorkers === "number" ? maxWorkers : maxWorkers());
}
