import path from "node:path";
import { because, type EndReason } from "../events/end-reason.js";
import type { RunEvent } from "../events/run-event.js";
import type { RunState } from "../store/run-state.js";
import { adapterFor } from "../tools/registry.js";
import type { Step, Workstream } from "../workstream/model.js";
import type { Clock } from "./clock.js";
import { COMPENSATION_ATTEMPT, invoke, type RunPlace } from "./invoke.js";

/**
 * Rollback: the `compensate` of each passed step, last finished first, each once, each with its
 * own timeout and log (steps/<id>/compensate.log). A failing compensation is reported and the
 * rest still run. Progress is in events (compensate-start/-end), so after a kill -9 `--resume`
 * runs only what had not finished. A compensation is contained like its step's attempts (invoke.ts):
 * the secrets the step was not given, the sandbox, the process journal.
 */

interface CompensationDeps extends RunPlace {
  clock: Clock;
  emit: (event: RunEvent) => void;
  /** A second Ctrl-C: stop the running compensation, start no other. */
  signal?: AbortSignal | undefined;
  /** Worktree runs: undoes a compensated step's commit on the run's branch (the new tip, or undefined: nothing to undo). */
  undo?: ((step: string) => Promise<string | undefined>) | undefined;
}

/** Steps whose compensation is still to run, in reverse finish order. */
export function rollbackOrder(ws: Workstream, state: RunState): string[] {
  return ws.steps
    .filter((s) => s.compensate !== undefined)
    .map((s) => ({ id: s.id, record: state.steps[s.id] }))
    .filter(({ record }) => record?.state === "passed" && (record.compensation === undefined || record.compensation.state === "running"))
    .sort((a, b) => (b.record?.endedAt ?? "").localeCompare(a.record?.endedAt ?? ""))
    .map(({ id }) => id);
}

export async function runCompensations(deps: CompensationDeps, steps: string[], trigger: "failure" | "rollback" | "resume"): Promise<boolean> {
  const now = () => new Date(deps.clock.now()).toISOString();
  deps.emit({ type: "rollback-start", at: now(), steps, trigger });
  const failed: string[] = [];
  for (const id of steps) {
    if (deps.signal?.aborted) {
      failed.push(id);
      continue;
    }
    const passed = await compensateOne(deps, id, now);
    if (!passed) failed.push(id);
  }
  deps.emit({ type: "rollback-end", at: now(), passed: failed.length === 0, failed });
  return failed.length === 0;
}

async function compensateOne(deps: CompensationDeps, id: string, now: () => string): Promise<boolean> {
  const original = deps.workstream.steps.find((s) => s.id === id);
  const compensate = original?.compensate;
  if (!original || !compensate) return true;
  // The compensation runs as a step of its own: the tool's adapter builds its argv like any attempt's.
  const step: Step = { ...original, tool: compensate.tool, run: compensate.run, tasks: compensate.tasks, timeout: compensate.timeout, acceptanceTests: [], retries: 0 };
  const stepDir = deps.paths.stepDir(id);
  const log = path.join(stepDir, "compensate.log");
  deps.emit({ type: "compensate-start", at: now(), step: id, tool: step.tool });
  const started = deps.clock.now();
  const adapter = adapterFor(deps.workstream, step.tool);
  const ctx = { workstream: deps.workstream, step, cwd: deps.workdir, attempt: 1, stepDir, env: deps.env };
  const invocation = await adapter.prepare(ctx);
  const parser = adapter.parser(ctx);
  const proc = await invoke(
    deps,
    step,
    COMPENSATION_ATTEMPT,
    {
      command: invocation.command,
      args: invocation.args,
      cwd: deps.workdir,
      env: { ...step.env, ...invocation.env },
      stdinFile: invocation.stdinFile,
      timeoutMs: step.timeout * 1000,
      logFile: log,
      signal: deps.signal,
      onLine: step.tool === "shell" ? undefined : (line, stream) => parser.onLine(line, stream),
    },
    { keyVariables: adapter.keyVariables ?? [], given: Object.keys(invocation.env) },
  );
  const verdict = parser.finish(proc);
  let reason: EndReason = because("passed");
  if (proc.outcome === "cancelled") reason = because("cancelled");
  else if (proc.outcome === "timeout") reason = because("timeout");
  else if (proc.outcome === "spawn_error") reason = because("spawn_error");
  else if (proc.signal) reason = { kind: "signal", signal: proc.signal };
  else if (proc.exitCode !== 0) reason = { kind: "exit", code: proc.exitCode ?? -1 };
  else if (verdict.kind === "error") reason = because("tool_error");
  // What was compensated must not stay on the branch to be merged.
  const undone = reason.kind === "passed" ? await deps.undo?.(id) : undefined;
  deps.emit({
    type: "compensate-end",
    at: now(),
    step: id,
    undone,
    passed: reason.kind === "passed",
    reason,
    durationMs: deps.clock.now() - started,
    log: path.relative(deps.paths.root, log),
    tail: proc.tail.slice(-20),
  });
  return reason.kind === "passed";
}
