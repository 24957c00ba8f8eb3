import fs from "node:fs";
import { capFeedback, FEEDBACK_LINES } from "../format/retry-feedback.js";
import { causeLine } from "../format/cause-line.js";
import path from "node:path";
import { progressFileOf } from "./step-progress.js";
import { collectArtifacts } from "./artifacts.js";
import { capOutputs, MAX_OUTPUT_BYTES, parseOutputs, type Outputs } from "./outputs.js";
import type { Clock } from "./clock.js";
import type { RunEvent } from "../events/run-event.js";
import type { GitMode } from "../git/isolation.js";
import { because, type EndReason } from "../events/end-reason.js";
import type { Usage } from "../events/usage.js";
import type { UnitResult } from "./scheduler.js";
import type { Step, Workstream } from "../workstream/model.js";
import type { WsPaths } from "../store/paths.js";
import { addUsage } from "../events/usage.js";
import { interruptedAttempts, type StepRecord } from "../store/run-state.js";
import type { ToolAdapter, ToolContext, ToolVerdict } from "../tools/types.js";
import type { ProcessResult } from "../proc/run-process.js";
import { simpleArgv } from "../proc/simple-command.js";
import type { Snapshot } from "../git/changes.js";
import { invoke, type InvokeOptions, type Secrets } from "./invoke.js";
import { agentStateDirs } from "../proc/attempt-containment.js";
import type { Lane } from "../git/lanes.js";
import type { MergeConflict } from "../git/run-branch.js";
import { countsAgainstRetries, decideRetry, retryDelayMs } from "./retry-decision.js";
import { stepEndEvent } from "./step-end.js";
import { ActivityPace } from "./activity-pace.js";
import { onAbort } from "./on-abort.js";
import { hasLimit, pastBudget, type RunSpend } from "./run-spend.js";
import { withLaneVariables } from "../git/lane-variables.js";

export interface StepRunnerDeps {
  workstream: Workstream;
  /** Where steps run: the worktree, or the project root. */
  workdir: string;
  paths: WsPaths;
  env: NodeJS.ProcessEnv;
  /** process.env copied once for the run: what every step process inherits. */
  inherited: Readonly<Record<string, string>>;
  clock: Clock;
  git: GitMode;
  /** Agents' own processes run sandboxed (the default where bwrap works; see defaultAgentSandbox). */
  sandboxAgents?: boolean | undefined;
  /** The adapter of a tool by name (a step may fall back to another tool of its list). */
  adapter: (tool: string) => ToolAdapter;
  emit: (event: RunEvent) => void;
  /** file_scopes of the other steps whose attempts overlapped [since, now] (their edits are not this step's). */
  othersScopes: (step: Step, since: number) => string[][];
  /** Each output line of the tool as it comes (`ws run --stream`); undefined: shell output is not decoded. */
  onOutput?: ((step: string, line: string, stream: "stdout" | "stderr") => void) | undefined;
  /** Worktree runs: the commit the step starts from (its dependencies' work merged), or why it can't start. */
  baseFor?: ((step: Step) => Promise<{ commit: string } | { conflict: MergeConflict }>) | undefined;
  /** The run's spending and budget: a running attempt's streamed usage counts towards it. */
  runSpend?: RunSpend | undefined;
}

/** The result of one unit, plus what the breaker needs to know. */
export type AttemptResult = UnitResult & {
  toolFault: boolean;
  /** The tool that ran the attempt. */
  tool: string;
  /** A quota answer: park the tool until `until` (epoch ms) when the tool said, else for the cooldown. */
  quota?: { until: number | undefined; network?: boolean | undefined } | undefined;
  /** Credentials failed: no step may use this tool for the rest of the run. */
  auth?: { message: string; fix: string } | undefined;
  /** The API was unreachable and the run does not wait for it: no step may use this tool for the rest of the run. */
  network?: { message: string; host: string | undefined } | undefined;
};


/**
 * Why the tool's process ended badly, or undefined when it did its job. The verdict's kind comes
 * before the process outcome: a CLI that retried a 429 until the step timed out ran into a
 * quota, not a slow task, and a CLI ws stopped (hopeless reconnects) says why in its verdict.
 */
/** How the tool's own part of an attempt ended: passed so far, or why not, and whether the tool is to blame. */
function toolOutcome(proc: ProcessResult, verdict: ToolVerdict, budgetHit: string | undefined): { reason: EndReason; detail?: string | undefined; toolFault: boolean } {
  const failure = proc.outcome === "cancelled" ? { reason: because("cancelled"), detail: undefined } : toolFailure(proc, verdict, budgetHit);
  if (!failure) return { reason: because("passed"), toolFault: false };
  // Running out of budget is the step's doing, not the tool's.
  return { ...failure, toolFault: failure.reason.kind !== "cancelled" && failure.reason.kind !== "budget" };
}

/**
 * bubblewrap exits 1 with "bwrap: execvp <path>: <why>" when the program is not there inside the
 * sandbox: the tool never started, so it is a spawn error naming the path, not a tool failure
 * (and no retry can change it; see retry-decision.ts).
 */
function sandboxCannotStart(proc: ProcessResult): string | undefined {
  if (proc.exitCode !== 1) return undefined;
  const line = proc.tail.find((l) => l.startsWith("bwrap: execvp "));
  const found = line === undefined ? undefined : /^bwrap: execvp (.+): ([^:]+)$/.exec(line);
  return found ? `the sandbox cannot start ${found[1]}: ${found[2]} inside it (bubblewrap); a program or its link target below /tmp, or outside the paths the sandbox mounts, is not visible there` : undefined;
}

function toolFailure(proc: ProcessResult, verdict: ToolVerdict, budgetHit: string | undefined): { reason: EndReason; detail?: string | undefined } | undefined {
  if (proc.outcome === "spawn_error") return { reason: because("spawn_error"), detail: proc.error };
  const unstartable = sandboxCannotStart(proc);
  if (unstartable !== undefined) return { reason: because("spawn_error"), detail: unstartable };
  if (budgetHit !== undefined) return { reason: because("budget"), detail: budgetHit };
  // The host first: what the user has to check (the CLI's own line rarely names it).
  if (verdict.kind === "network" && verdict.host !== undefined) return { reason: because("network"), detail: `could not reach ${verdict.host}: ${verdict.message}` };
  if (verdict.kind !== "ok" && verdict.kind !== "error") return { reason: because(verdict.kind), detail: verdict.message };
  const message = verdict.kind === "error" ? verdict.message : undefined;
  // The verdict's message carries the tool's last meaningful line: what it was doing when cut off.
  // "command timed out" says no more than the reason; the limit is added where it is shown.
  if (proc.outcome === "timeout") return { reason: because("timeout"), detail: message?.endsWith("timed out") ? undefined : message };
  if (proc.signal) return { reason: { kind: "signal", signal: proc.signal }, detail: message };
  if (proc.exitCode !== 0) return { reason: { kind: "exit", code: proc.exitCode ?? -1 }, detail: message };
  if (verdict.kind === "error") return { reason: because("tool_error"), detail: message };
  return undefined;
}

/** Why the step is past its budget counting `used` (earlier attempts and this one so far); undefined while within it. */
function overBudget(budget: Step["budget"], used: Usage | undefined): string | undefined {
  return pastBudget(budget, used, "the step's budget");
}

/** What the scope check found, worded for the step, the files first (a table cell is cut at its
 *  end): a shell step without file_scope is told why it may change nothing and how to let it (design §1). */
function outsideScope(step: Step, files: string[], kept: string): string {
  if (step.hasFileScope && step.fileScope.length > 0) return `changed files outside file_scope: ${files.join(", ")} (kept in ${kept}, then reverted)`;
  if (step.hasFileScope) return `changed ${files.join(", ")}, but its file_scope is [] (kept in ${kept}, then reverted)`;
  return `changed ${files.join(", ")}: a shell step without file_scope may change no file (kept in ${kept}, then reverted; list what it may write in file_scope)`;
}

/** The highest N of the step's attempt-N.* files (0 without any): a fresh run has removed them. */
function lastLoggedAttempt(stepDir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(stepDir);
  } catch {
    return 0; // no folder yet: the step never ran
  }
  return Math.max(0, ...names.map((name) => Number(/^attempt-(\d+)\./.exec(name)?.[1] ?? 0)));
}

/**
 * One step across its attempts. Each call to `attempt` is one unit for the scheduler: the step
 * gives its worker back between attempts, so a retry waits its turn (and its tool's breaker) like
 * any other work.
 */
export class StepRun {
  /** Attempts made, including free (quota) and interrupted ones: numbers the log files. */
  private made = 0;
  /** Tries (attempts not interrupted) of the earlier runs a resume continues. */
  private readonly earlier: number;
  /** Attempts cut short from outside (Ctrl-C, abort, a lost race, a run that died): no retry spent. */
  private interrupted = 0;
  /** Failed attempts that count against `retries`. */
  private spent = 0;
  private quotaHits = 0;
  private feedback: string | undefined;
  private lastTestFailure: string | undefined;
  private durationMs = 0;
  private usage: Usage | undefined;
  /** What the latest attempt used (the run's budget counts it). */
  lastUsage: Usage | undefined;
  /** Files this step's attempts changed and kept: a retry may leave an earlier attempt's file as it was. */
  private readonly owned = new Set<string>();
  ended = false;
  private outputs: Outputs = {};
  private artifacts: string[] | undefined;
  /** Wall time the latest attempt started: an artifact is a file written since (the run's clock may be virtual). */
  private attemptStartedAt = 0;
  private folderMade = false;

  /** Worktree runs: the step's own worktree, from its first attempt to its end. */
  private lane: Lane | undefined;
  get stepId(): string {
    return this.step.id;
  }

  /** What the step's work amounts to as a commit (worktree runs): its commit, else its base. */
  result: string | undefined;

  /** `previous`: the step in the run being resumed, so a resume's logs continue the numbering,
   *  the files its attempts left get committed, and a commit cut short is finished. */
  constructor(
    private readonly step: Step,
    private readonly deps: StepRunnerDeps,
    previous?: Pick<StepRecord, "attempts" | "commitPending" | "interrupted" | "inAttempt">,
  ) {
    // On a resume the logs on disk have the last word: a resumed run in which the step did not run
    // (skipped, blocked, cancelled before it started) records 0 attempts, and the next resume must
    // not number its attempt 1 again and write into that attempt's log. A fresh run cleared them.
    this.made = previous ? Math.max(previous.attempts, lastLoggedAttempt(deps.paths.stepDir(step.id))) : 0;
    // Only the numbering and the count carry over: `spent` starts at 0, so a resumed step has its
    // retries again (an interrupted attempt never spent one).
    this.interrupted = previous ? interruptedAttempts(previous) : 0;
    this.earlier = this.made - this.interrupted;
  }

  private rel(file: string): string {
    return path.relative(this.deps.paths.root, file);
  }

  /** Where the step runs: its own worktree, or (in place) the project. */
  private get workdir(): string {
    return this.lane?.workdir ?? this.deps.workdir;
  }

  /** Takes the step's worktree at its base; a conflict between its dependencies' work ends the step first. */
  private async takeLane(): Promise<AttemptResult | undefined> {
    const { deps, step } = this;
    const pool = deps.git.lanes?.pool;
    if (!pool || this.lane || !deps.baseFor) return undefined;
    const base = await deps.baseFor(step);
    if ("conflict" in base) {
      const { steps, files } = base.conflict;
      return this.end("failed", because("merge_conflict"), undefined, false, `the work of ${steps.join(" and ")} conflicts in ${files.join(", ")}; git cannot merge them for this step (make one depend on the other, or give them file_scopes that do not overlap)`);
    }
    this.lane = await pool.acquire(base.commit);
    this.result = base.commit;
    return undefined;
  }

  /** Gives the worktree back; what a step that did not pass left in it is kept as a patch. */
  async releaseLane(passed = false): Promise<void> {
    const lane = this.lane;
    if (!lane) return;
    this.lane = undefined;
    // A passed step's work is its commit: nothing is left to keep.
    await this.deps.git.lanes?.pool.release(lane, passed ? undefined : path.join(this.deps.paths.stepDir(this.step.id), `attempt-${this.made}.leftover.patch`));
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** One attempt with `tool` (the step's first tool, or the fallback its tool's breaker left). */
  async attempt(signal: AbortSignal, tool = this.step.tool): Promise<AttemptResult> {
    const refused = await this.takeLane();
    if (refused) return { ...refused, tool };
    const { step, deps } = this;
    const attempt = ++this.made;
    const started = deps.clock.now();
    this.attemptStartedAt = Date.now();
    deps.emit({ type: "step-start", at: this.now(), step: step.id, attempt, tool });

    const git = deps.git.scopeCheck || deps.git.commit ? await import("../git/changes.js") : undefined;
    const before = git ? await this.before(git.snapshot) : undefined;
    const { proc, verdict, log, budgetHit, outputFile } = await this.runTool(tool, attempt, signal);
    this.usage = addUsage(this.usage, verdict.usage);
    this.lastUsage = verdict.usage;

    const ran = toolOutcome(proc, verdict, budgetHit);
    let { reason, detail } = ran;
    const { toolFault } = ran;
    let tail = proc.tail;

    // A race's loser leaves nothing behind: only the winner's work may reach the tree and its branch.
    const checked = git && before ? await this.checkChanges(attempt, started, before, reason.kind === "cancelled" && (signal.reason as EndReason | undefined)?.kind === "lost_race") : undefined;
    if (checked?.violation !== undefined) {
      // A tool that failed keeps its own reason; what it tampered with is said alongside.
      if (reason.kind === "passed") reason = because("scope_violation");
      detail = reason.kind === "scope_violation" || detail === undefined ? checked.violation : `${detail}; ${checked.violation}`;
    }
    const changed = checked?.changed ?? [];

    if (deps.git.commit) for (const file of await this.ownFiles(changed, started)) this.owned.add(file);

    if (reason.kind === "passed") {
      const tests = await this.runTests(attempt, signal);
      if (tests) {
        reason = tests.reason;
        tail = tests.tail;
        detail = tests.detail;
      }
    }

    detail = this.withMissingPathHint(reason, detail, tail);
    const durationMs = deps.clock.now() - started;
    this.durationMs += durationMs;
    if (reason.kind === "cancelled") this.interrupted += 1;
    const testFailure = reason.kind === "tests_failed" ? capFeedback(tail) : undefined;
    const decision = decideRetry({
      attempt,
      reason,
      detail,
      toolFault,
      stoppedWith: signal.reason as EndReason | undefined,
      discarded: checked?.discarded,
      quotaAttempts: this.quotaHits,
      networkWait: deps.workstream.circuitBreaker.networkWait > 0,
      spent: this.spent,
      retries: step.retries,
      lastTestFailure: this.lastTestFailure,
      testFailure,
      overBudget: overBudget(step.budget, this.usage),
    });
    // A wait for the network is bounded like quota answers (MAX_QUOTA_ATTEMPTS).
    if (reason.kind === "quota" || (reason.kind === "network" && decision.kind === "free")) this.quotaHits += 1;
    if (countsAgainstRetries(decision)) {
      this.spent += 1;
      this.lastTestFailure = testFailure;
    }
    const free = decision.kind === "free";
    // Waiting for the network parks the tool for network_wait, then one probe step (the breaker's half-open trial).
    const networkWait = reason.kind === "network" && free;
    const until = verdict.kind === "quota" ? verdict.resetAt : networkWait ? deps.clock.now() + deps.workstream.circuitBreaker.networkWait * 1000 : undefined;
    deps.emit({
      type: "attempt-end",
      at: this.now(),
      step: step.id,
      attempt,
      passed: reason.kind === "passed",
      reason,
      exitCode: proc.exitCode,
      signal: proc.signal,
      durationMs,
      log: this.rel(log),
      tail: tail.slice(-FEEDBACK_LINES),
      usage: verdict.usage,
      detail,
      free: free || undefined,
      resetAt: free && until !== undefined ? new Date(until).toISOString() : undefined,
    });
    const auth = verdict.kind === "auth" ? { message: verdict.message, fix: verdict.fix } : undefined;
    const host = verdict.kind === "network" ? verdict.host : undefined;
    const network = reason.kind === "network" && !free ? { message: detail ?? "", host } : undefined;
    const base = { toolFault, tool, auth, network, quota: reason.kind === "quota" || networkWait ? { until, network: networkWait || undefined } : undefined };

    if (decision.kind === "passed") return { ...(await this.endPassed(outputFile)), ...base };
    if (decision.kind === "final") return { ...this.end(decision.state, decision.reason, undefined, decision.toolFault, decision.detail), ...base };
    if (decision.kind !== "retry") return { final: false, ...base };
    this.feedback = decision.feedback;
    // `spent` counts this attempt: the first retry waits retry_delay, each later one backs off.
    return { final: false, delayMs: retryDelayMs(step, this.spent), ...base };
  }

  /** The tree before an attempt. A lane handed over clean at its base comes with it: the first attempt needs no look. */
  private async before(snapshot: (cwd: string) => Promise<Snapshot>): Promise<Snapshot> {
    const known = this.lane?.before;
    if (this.lane) this.lane.before = undefined;
    return known ?? (await snapshot(this.workdir));
  }

  /** A command "not found" (127) on a path the checkout has, ignored, and the lane lacks: the detail names the setting. */
  private withMissingPathHint(reason: EndReason, detail: string | undefined, tail: string[]): string | undefined {
    const missing = (reason.kind === "exit" && reason.code === 127) || / exited 127: /.test(detail ?? "");
    const hint = this.lane && missing ? this.deps.git.lanes?.pool.missingPathHint(tail, this.workdir) : undefined;
    return hint === undefined ? detail : `${detail ?? ""}; ${hint}`;
  }

  /** A passed attempt's files become the step's commit on the run's branch; work git cannot merge there fails the step. */
  private async endPassed(outputFile: string): Promise<AttemptResult> {
    const commit = this.deps.git.commit ? await this.commit() : undefined;
    if (typeof commit === "object") {
      const { steps, files } = commit.conflict;
      const others = steps.filter((s) => s !== this.step.id).join(", ") || "work on the run's branch";
      return this.end("failed", because("merge_conflict"), undefined, false, `its work conflicts with ${others} in ${files.join(", ")}; it passed its tests but cannot join the run's branch (kept as commit ${this.result?.slice(0, 12) ?? "?"})`);
    }
    this.outputs = this.readOutputs(outputFile);
    this.artifacts = this.collectArtifacts();
    return this.end("passed", because("passed"), commit, false);
  }

  /** Copies what the step's `artifacts` match out of its worktree before the worktree is reused. */
  private collectArtifacts(): string[] | undefined {
    const { step, deps } = this;
    if (step.artifacts.length === 0) return undefined;
    const to = deps.paths.artifactsDir(step.id);
    const { files, unmatched, stale } = collectArtifacts({ cwd: this.workdir, patterns: step.artifacts, to, since: this.attemptStartedAt });
    if (unmatched.length > 0) {
      const older = stale > 0 ? ` (${stale} matching file${stale === 1 ? " is" : "s are"} older than the attempt: not made by it)` : "";
      deps.emit({ type: "warning", at: this.now(), step: step.id, message: `artifacts of ${step.id}: no file the step wrote matches ${unmatched.map((g) => JSON.stringify(g)).join(", ")} in its working directory${older}` });
    }
    return files;
  }

  /**
   * Spawns the tool. Its parser may stop it early ("stop": a hopeless loop), and so may the
   * budget: the step's limits are checked against the usage the parser has seen so far.
   */
  private async runTool(
    tool: string,
    attempt: number,
    signal: AbortSignal,
  ): Promise<{ proc: ProcessResult; verdict: ToolVerdict; log: string; budgetHit: string | undefined; outputFile: string }> {
    const { step, deps } = this;
    // A path per attempt, so only the passed attempt's outputs count. Not created beforehand: `>>`
    // creates it, most steps never write one, and on a busy file system each new file costs more
    // than the step (bench/NOTES.md). The step's folder is made once, for its first attempt's log:
    // for a shell step by runProcess, before the child starts (on the python spawn path by the
    // server, off ws's main thread: issue 32); an agent's adapter may write into it first.
    const outputFile = path.join(deps.paths.stepDir(step.id), `attempt-${attempt}.outputs`);
    if (!this.folderMade && tool !== "shell") fs.mkdirSync(path.dirname(outputFile), { recursive: true });
    this.folderMade = true;
    const adapter = deps.adapter(tool);
    const ctx = this.toolContext(attempt);
    const invocation = await adapter.prepare(ctx);
    const parser = adapter.parser(ctx);
    const log = deps.paths.attemptLog(step.id, attempt);
    // The run's signal stops the attempt too: forwarded by hand, as AbortSignal.any cost ~25 us an
    // attempt on Node 20 (a 1000-step run's profile) and keeps its signals until a GC.
    const stopper = new AbortController();
    const unforward = onAbort(signal, () => stopper.abort());
    let budgetHit: string | undefined;
    const runSpend = deps.runSpend && hasLimit(deps.runSpend.budget) ? deps.runSpend : undefined;
    const watchBudget = (hasLimit(step.budget) || runSpend !== undefined) && parser.usageSoFar !== undefined;
    const pace = parser.takeActivity ? new ActivityPace((a) => deps.emit({ type: "activity", at: this.now(), step: step.id, attempt, kind: a.kind, text: a.text, usage: parser.usageSoFar?.() })) : undefined;
    const onLine = (line: string, stream: "stdout" | "stderr") => {
      if (parser.onLine(line, stream) === "stop") stopper.abort();
      const activities = pace && parser.takeActivity?.();
      if (activities) for (const activity of activities) pace?.offer(activity);
      if (watchBudget && budgetHit === undefined) {
        const sofar = parser.usageSoFar?.();
        runSpend?.live(step.id, sofar);
        // Stopped at once, from inside the line that crossed it: the process group is killed
        // before the agent can spend more, and what it changed stays as the leftover patch.
        budgetHit = overBudget(step.budget, addUsage(this.usage, sofar)) ?? runSpend?.check(step.id);
        if (budgetHit !== undefined) stopper.abort();
      }
    };
    const unwatch = watchBudget ? runSpend?.watch(step.id, (why) => {
      budgetHit ??= why;
      stopper.abort();
    }) : undefined;
    const proc = await this.spawn(attempt, {
      command: invocation.command,
      args: invocation.args,
      cwd: this.workdir,
      env: { ...step.env, ...invocation.env, WS_OUTPUT: outputFile, WS_PROGRESS: progressFileOf(deps.paths.stepDir(step.id), attempt) },
      stdinFile: invocation.stdinFile,
      timeoutMs: step.timeout * 1000,
      logFile: log,
      signal: stopper.signal,
      // A shell step's output says nothing to ws: don't decode every line of it (bench/: memory,
      // speed), unless someone watches it (--stream).
      onLine: deps.onOutput ? this.streamed(tool, onLine) : tool === "shell" ? undefined : onLine,
    }, { keyVariables: adapter.keyVariables ?? [], given: Object.keys(invocation.env), agentState: this.agentState(tool, adapter) });
    unwatch?.();
    unforward();
    // The activity still waiting for its slot is the attempt's last: it goes out before attempt-end.
    pace?.flush();
    const stopped = proc.outcome === "cancelled" && !signal.aborted;
    const verdict = parser.finish(stopped ? { ...proc, outcome: "stopped" } : proc);
    return { proc: stopped ? { ...proc, outcome: "exited" } : proc, verdict, log, budgetHit, outputFile };
  }

  /** --stream: every line goes to the watcher, and an agent's also to its parser. */
  private streamed(tool: string, parse: (line: string, stream: "stdout" | "stderr") => void): (line: string, stream: "stdout" | "stderr") => void {
    const watch = this.deps.onOutput!;
    const id = this.step.id;
    return (line, stream) => {
      watch(id, line, stream);
      if (tool !== "shell") parse(line, stream);
    };
  }

  private toolContext(attempt: number): ToolContext {
    const { step, deps } = this;
    return {
      workstream: deps.workstream,
      step,
      cwd: this.workdir,
      attempt,
      feedback: this.feedback,
      stepDir: deps.paths.stepDir(step.id),
      env: deps.env,
      now: () => deps.clock.now(),
    };
  }

  /**
   * What the attempt changed and may keep. First the repo guard (shared git dir, the user's
   * checkout, the run's branch and worktree: it must run before any git command in the tree, which
   * the step may have disconnected), then the tree's own changes: symlinks pointing out of the
   * tree and files outside file_scope are reverted and kept as patches. `violation` says why the
   * step fails, if it does.
   */
  private async checkChanges(attempt: number, started: number, before: Snapshot, discard: boolean): Promise<{ changed: string[]; violation?: string; discarded?: string }> {
    const { step, deps } = this;
    const stepDir = deps.paths.stepDir(step.id);
    const guard = deps.git.guard;
    const keepDir = path.join(stepDir, `attempt-${attempt}.guard`);
    const findings = this.lane ? await this.checkLane(keepDir) : guard ? await guard.check(keepDir) : [];
    const workdir = this.workdir;
    const git = await import("../git/changes.js");
    // In a lane, HEAD is where checkLane just put it.
    const after = await git.snapshot(workdir, this.lane?.head);
    let changed = git.changedBetween(before, after);
    const { enforceScope, revertChanges } = await import("../git/scope-check.js");
    let links: string[] = [];
    const top = this.lane?.root ?? guard?.root;
    if (top !== undefined) {
      const { outwardLinks } = await import("../git/repo-guard.js");
      links = await outwardLinks(workdir, top, after, changed);
      if (links.length > 0) {
        const patchFile = path.join(stepDir, `attempt-${attempt}.links.patch`);
        await revertChanges({ cwd: workdir, before, after, files: links, patchFile });
        findings.push(`created symlinks pointing outside the worktree: ${links.join(", ")} (kept in ${this.rel(patchFile)}, then removed)`);
        changed = changed.filter((f) => !links.includes(f));
      }
    }
    if (deps.git.scopeCheck && !step.mayChangeAnything) {
      const check = await enforceScope({
        cwd: workdir,
        before,
        after,
        fileScope: step.fileScope,
        // In its own worktree, every change is the step's.
        othersScopes: this.lane ? [] : deps.othersScopes(step, started),
        patchFile: path.join(stepDir, `attempt-${attempt}.out-of-scope.patch`),
        skip: links,
      });
      if (check.violations.length > 0) {
        const outside = new Set(check.violations);
        changed = changed.filter((f) => !outside.has(f));
        findings.push(outsideScope(step, check.violations, this.rel(check.patchFile ?? "")));
      }
    }
    const violation = findings.length > 0 ? findings.join("; ") : undefined;
    const own = discard ? await this.ownFiles(changed, started) : [];
    if (own.length === 0) return { changed, violation };
    const patchFile = path.join(stepDir, `attempt-${attempt}.lost-race.patch`);
    await revertChanges({ cwd: workdir, before, after: await git.snapshot(workdir), files: own, patchFile });
    return { changed: changed.filter((f) => !own.includes(f)), violation, discarded: `its changes were discarded: ${own.join(", ")} (kept in ${this.rel(patchFile)})` };
  }

  /** The step's own worktree after an attempt: its `.git` file and HEAD as ws left them (a step
   *  that deleted, disconnected or committed in it is undone, what it made kept under `keepDir`). */
  private async checkLane(keepDir: string): Promise<string[]> {
    const lane = this.lane!;
    const { recoverTree, restoreHead } = await import("../git/branch-guard.js");
    const tree = async (): Promise<string[]> => {
      const findings = await recoverTree(lane.identity, lane.head, keepDir);
      if (!fs.existsSync(lane.workdir)) {
        fs.mkdirSync(lane.workdir, { recursive: true });
        findings.push(`the step's working folder ${lane.workdir} was deleted; recreated it`);
      }
      findings.push(...(await restoreHead(lane.identity, lane.head, path.join(keepDir, "history.patch"))));
      return findings;
    };
    // The lane's git dir first, with file operations only: a config the step planted (a filter,
    // an fsmonitor) must be gone before ws's next git command in the lane reads it.
    const pool = this.deps.git.lanes?.pool;
    return pool ? pool.checkGitDir(lane, keepDir, tree) : tree();
  }

  /** The scheduler cancelled a step between attempts (stop/abort/Ctrl-C forbade its retry). */
  cancel(why?: { reason: EndReason; detail?: string | undefined }): void {
    if (!this.ended) this.end("cancelled", why?.reason ?? because("cancelled"), undefined, false, why?.detail);
  }

  private end(state: "passed" | "failed" | "cancelled", reason: EndReason, commit: string | undefined, toolFault: boolean, detail?: string): AttemptResult {
    this.ended = true;
    this.deps.emit(
      stepEndEvent(this.now(), {
        step: this.step.id,
        state,
        reason,
        attempts: this.made,
        interrupted: this.interrupted,
        earlierTries: this.earlier,
        durationMs: this.durationMs,
        usage: this.usage,
        commit,
        outputs: this.outputs,
        artifacts: this.artifacts,
        detail,
      }),
    );
    return { final: true, state, reason, toolFault, tool: this.step.tool };
  }

  /** The passed attempt's $WS_OUTPUT; a malformed line or an oversized value is a warning, not a failure. */
  private readOutputs(file: string): Outputs {
    let text: string;
    // Most steps write none: a failed read builds an exception, several times the cost of asking.
    if (!fs.existsSync(file)) return {};
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      return {}; // the step removed it: it has no outputs
    }
    const parsed = parseOutputs(text);
    const capped = capOutputs(parsed.outputs);
    const problems = [...parsed.problems];
    if (capped.dropped.length > 0) problems.push(`outputs past ${MAX_OUTPUT_BYTES} bytes dropped: ${capped.dropped.join(", ")}`);
    for (const problem of problems) this.deps.emit({ type: "warning", at: this.now(), step: this.step.id, message: `$WS_OUTPUT of ${this.step.id}: ${problem}` });
    return capped.outputs;
  }

  /** Acceptance tests in order; the first failure ends the attempt. Undefined when all passed. */
  private async runTests(attempt: number, signal: AbortSignal): Promise<{ reason: EndReason; tail: string[]; detail: string } | undefined> {
    const { step, deps } = this;
    for (const [k, test] of step.acceptanceTests.entries()) {
      const index = k + 1;
      deps.emit({ type: "test-start", at: this.now(), step: step.id, attempt, index, command: test.run });
      const started = deps.clock.now();
      const log = deps.paths.testLog(step.id, attempt, index);
      const [command, ...args] = simpleArgv(test.run, { ...deps.env, ...step.env }) ?? ["/bin/sh", "-c", test.run];
      const proc = await this.spawn(attempt, {
        command: command!,
        args,
        cwd: this.workdir,
        env: step.env,
        timeoutMs: (test.timeout ?? step.timeout) * 1000,
        logFile: log,
        signal,
      }, { keyVariables: [], given: Object.keys(step.env) });
      const reason = because(
        proc.outcome === "cancelled" ? "cancelled" : proc.outcome === "timeout" ? "timeout" : proc.exitCode === 0 ? "passed" : "tests_failed",
      );
      deps.emit({
        type: "test-end",
        at: this.now(),
        step: step.id,
        attempt,
        index,
        command: test.run,
        passed: reason.kind === "passed",
        reason,
        exitCode: proc.exitCode,
        durationMs: deps.clock.now() - started,
        log: this.rel(log),
        tail: proc.tail.slice(-FEEDBACK_LINES),
      });
      if (reason.kind !== "passed") {
        const why = reason.kind === "timeout" ? "timed out" : reason.kind === "cancelled" ? "was cancelled" : `exited ${proc.exitCode ?? proc.signal}`;
        // The test's own last word (pytest's `1 failed, 296 passed`) before its command line: the cause first.
        const cause = proc.outcome === "exited" && proc.exitCode !== null ? causeLine(proc.tail, proc.exitCode) : undefined;
        return {
          reason: because(reason.kind === "cancelled" ? "cancelled" : "tests_failed"),
          tail: [`$ ${test.run}`, ...proc.tail],
          detail: cause !== undefined ? `acceptance test ${index} ${why}: ${cause} ($ ${test.run})` : `acceptance test ${index} ${why}: ${test.run}`,
        };
      }
    }
    return undefined;
  }

  /** An agent CLI's process (not a shell step's): where it keeps its state, made if missing, when it runs sandboxed by default. */
  private agentState(tool: string, adapter: ToolAdapter): string[] | undefined {
    if (tool === "shell" || !this.deps.sandboxAgents) return undefined;
    return agentStateDirs(adapter.stateDirs?.({ ...this.deps.inherited, ...this.deps.env, ...this.step.env }) ?? []);
  }

  private spawn(attempt: number, options: InvokeOptions, secrets: Secrets): Promise<ProcessResult> {
    const env = withLaneVariables(this.lane?.env, options.env, this.deps.inherited.PYTHONPATH);
    return invoke({ ...this.deps, workdir: this.workdir, tree: this.lane?.root }, this.step, attempt, { ...options, env }, secrets);
  }

  /** A step owns what it changed inside its scope; an agent step without a scope, what no other
   *  running step claims; in a worktree of its own, all it changed (the scope check reverted the rest). */
  private async ownFiles(changed: string[], since: number): Promise<string[]> {
    const { step, deps } = this;
    if (changed.length === 0 || this.lane) return changed;
    const { matchesScope } = await import("../scope/patterns.js");
    const others = deps.othersScopes(step, since).flat();
    return step.mayChangeAnything ? changed.filter((f) => !matchesScope(f, others)) : changed.filter((f) => matchesScope(f, step.fileScope));
  }

  /** Commits the files of every attempt: the tests passed on the tree they left, not on the last
   *  attempt's edits alone. In a worktree run the commit then joins the run's branch. */
  private async commit(): Promise<string | { conflict: MergeConflict } | undefined> {
    const { step, deps } = this;
    const files = [...this.owned].sort();
    if (files.length === 0) return undefined;
    const { commitFiles } = await import("../git/commit.js");
    const { trailerLine } = await import("../git/branch-name.js");
    const title = step.description || step.tasks[0] || step.id;
    // The trailer tells the next run this commit can be made again, so it needs no backup branch.
    const message = `ws(${step.id}): ${title}\n\n${trailerLine(deps.workstream.id)}`;
    const lane = this.lane;
    const pool = deps.git.lanes?.pool;
    const sha = lane && pool ? await pool.commit(lane, files, message, (made) => (lane.head = made)) : await commitFiles({ cwd: this.workdir, files, message });
    const branch = deps.git.lanes?.branch;
    if (sha === undefined || branch === undefined) return sha;
    this.result = sha;
    const joined = await branch.integrate(step.id, sha);
    return "conflict" in joined ? joined : sha;
  }
}
