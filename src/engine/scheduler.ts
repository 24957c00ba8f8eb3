import type { Clock } from "./clock.js";
import { because, type EndReason } from "../events/end-reason.js";
import type { OnFailure } from "../workstream/model.js";

/**
 * The scheduler walks the graph and limits concurrency; it knows nothing about processes, tools
 * or files. It is driven by `run(node)` (one unit of work: an attempt of a step) and answers which
 * node starts next: the ready node with the highest priority (critical path) that no constraint
 * holds back. Kept pure of I/O so a virtual clock and a fake `run` can property-test it.
 */

export type FinalState = "passed" | "failed" | "blocked" | "skipped" | "cancelled";

export interface Final {
  state: FinalState;
  reason: EndReason;
}

/** What one unit of work ended with: a final state, or "put me back in the queue" (a retry). */
/** `blocked` without running: the unit found it cannot (its tool unusable); it blocks its dependents like a failure. */
export type UnitResult = { final: true; state: "passed" | "failed" | "blocked" | "cancelled" | "skipped"; reason: EndReason } | { final: false };

export type Gate = { ok: true; token?: unknown } | { ok: false; retryInMs: number };

export interface SchedulerOptions {
  /** Step ids by node, for `blocked_by:<id>` reasons. */
  ids: readonly string[];
  /** deps[i]: the nodes i depends on (groups expanded). */
  deps: number[][];
  /** Nodes this run may start; the others count as satisfied dependencies and are left alone. */
  selected: ReadonlySet<number>;
  maxWorkers: number;
  /** Minimum gap between two starts, ms. */
  rateLimitMs: number;
  onFailure: OnFailure;
  /** Higher runs first; ties by node index (file order). Omit for FIFO (order of becoming ready). */
  priority?: readonly number[];
  /** Pairs that must never run at the same time (file_conflicts: serialize). */
  exclusive?: ReadonlyArray<readonly [number, number]>;
  /** Step groups: sequential ones run members one at a time in listed order; maxWorkers caps members. */
  groups?: ReadonlyArray<{ members: readonly number[]; sequential: boolean; maxWorkers?: number | undefined }>;
  /** Per-node admission (circuit breakers); a refusal says when to ask again. */
  gate?: (node: number) => Gate;
  clock: Clock;
  run: (node: number, signal: AbortSignal, token: unknown) => Promise<UnitResult>;
  /** A node reached a final state (including blocked/cancelled ones that never ran). */
  onFinal?: (node: number, final: Final) => void;
  /** External cancellation (Ctrl-C): stop starting, abort running units. */
  signal?: AbortSignal;
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

export async function schedule(options: SchedulerOptions): Promise<Map<number, Final>> {
  const { deps, selected, clock } = options;
  const n = deps.length;
  const finals = new Map<number, Final>();
  const dependents: number[][] = Array.from({ length: n }, () => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]?.push(i)));

  const conflictsOf: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of options.exclusive ?? []) {
    conflictsOf[a]?.push(b);
    conflictsOf[b]?.push(a);
  }
  const groupsOf: number[][] = Array.from({ length: n }, () => []);
  (options.groups ?? []).forEach((g, gi) => g.members.forEach((m) => groupsOf[m]?.push(gi)));

  const running = new Map<number, AbortController>();
  const unitErrors: unknown[] = [];
  const readySince = new Map<number, number>(); // node → sequence number (FIFO order)
  let sequence = 0;
  let stopped: "failure" | "abort" | undefined;
  let lastStart = -Infinity;
  let wake = deferred();
  let timer: AbortController | undefined;

  const satisfied = (d: number) => {
    if (!selected.has(d)) return true;
    const f = finals.get(d);
    return f !== undefined && (f.state === "passed" || f.state === "skipped");
  };
  const settle = (node: number, final: Final) => {
    if (finals.has(node)) return;
    finals.set(node, final);
    readySince.delete(node);
    options.onFinal?.(node, final);
  };
  const markReady = (node: number) => {
    if (!selected.has(node) || finals.has(node) || running.has(node) || readySince.has(node)) return;
    if ((deps[node] ?? []).every(satisfied)) readySince.set(node, sequence++);
  };
  const blockedBy = (node: number): EndReason => {
    const f = finals.get(node);
    // Name the root cause: a step blocked behind a blocked step is blocked by the same failure.
    return f?.state === "blocked" ? f.reason : { kind: "blocked_by", step: options.ids[node] ?? String(node) };
  };
  const blockDescendants = (failed: number) => {
    const reason = blockedBy(failed);
    const stack = [...(dependents[failed] ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (!selected.has(next) || finals.has(next)) continue;
      settle(next, { state: "blocked", reason });
      stack.push(...(dependents[next] ?? []));
    }
  };

  for (let i = 0; i < n; i++) markReady(i);

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

  const externalAbort = () => {
    stopped = "abort";
    for (const controller of running.values()) controller.abort();
    wake.resolve();
  };
  if (options.signal?.aborted) externalAbort();
  else options.signal?.addEventListener("abort", externalAbort, { once: true });

  const finish = (node: number, result: UnitResult) => {
    running.delete(node);
    if (!result.final) {
      // A retry goes back into the queue behind nothing: it keeps its priority.
      if (!stopped) readySince.set(node, sequence++);
      else settle(node, { state: "cancelled", reason: because("cancelled") });
    } else {
      settle(node, { state: result.state, reason: result.reason });
      if (result.state === "blocked") {
        blockDescendants(node);
      } else if (result.state === "failed") {
        blockDescendants(node);
        if (options.onFailure !== "continue" && !stopped) {
          stopped = options.onFailure === "abort" ? "abort" : "failure";
          if (stopped === "abort") for (const controller of running.values()) controller.abort();
        }
      } else if (result.state === "passed" || result.state === "skipped") {
        for (const d of dependents[node] ?? []) markReady(d);
      }
    }
    wake.resolve();
  };

  for (;;) {
    let nextWakeIn = Infinity;
    while (!stopped && running.size < options.maxWorkers && readySince.size > 0) {
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
      options
        .run(node, controller.signal, bestToken)
        .then((result) => finish(node, result))
        .catch((error: unknown) => {
          // A bug in a unit must not hang the run: record it and let the caller rethrow.
          unitErrors.push(error);
          finish(node, { final: true, state: "failed", reason: because("tool_error") });
        });
    }
    if (stopped && running.size === 0) break;
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
  return finals;
}
