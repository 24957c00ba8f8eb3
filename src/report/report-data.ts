import { capFeedback, retryFeedback } from "../format/retry-feedback.js";
import fs from "node:fs";
import { readHead } from "../store/file-part.js";
import path from "node:path";
import { formatReason } from "../events/end-reason.js";
import type { EventOf, RunEvent } from "../events/run-event.js";
import { buildGraph } from "../graph/graph.js";
import { secretValues, redactDeep } from "../proc/secrets.js";
import { readEvents } from "../store/event-log.js";
import { wsPaths, type WsPaths } from "../store/paths.js";
import { lastRun } from "../store/query.js";
import type { StepRecord } from "../store/run-state.js";
import type { Workstream } from "../workstream/model.js";
import { buildTimeline, lastRunEvents, stepDeps, type AttemptBar, type Timeline, type TimelineRow } from "./timeline.js";
import { sameFile } from "../workstream/digest.js";

/**
 * What `ws report` shows, gathered from the state folder and the repository: the timeline, and
 * per step what a reviewer asks for (the retry feedback, test tails, the diff, the log's end).
 * The HTML is drawn from this alone (html-report.ts), so the page is a pure function of it.
 * Everything read from a file is capped here, and what was cut is said where it was cut.
 */

/** Lines of an attempt's log shown: its end, where an error usually is; fewer for one that passed. */
export const LOG_LINES = 30;
const PASSED_LOG_LINES = 10;
/** All log tails together: the failed attempts' are kept first. */
export const LOG_BUDGET = 128 * 1024;
/** Bytes read from a log's end: enough for LOG_LINES lines of ordinary output, and no more. */
const LOG_READ_BYTES = 16 * 1024;
/** Lines of an acceptance test's output shown. */
export const TEST_LINES = 20;
/** One step's diff: a reviewer reads this much on the page; the rest is a `git show` away. */
export const DIFF_LINES = 400;
export const DIFF_BYTES = 48 * 1024;
/** All diffs together, so a run of thousands of steps still makes a page a browser opens at once (< 2 MB at 1000 steps). */
export const DIFF_BUDGET = 384 * 1024;
/** Above this many steps the graph is left out (Graphviz's layout of it takes seconds, and nobody
 *  reads it), and so is the table of steps (the timeline's rows link to the same sections). */
export const GRAPH_MAX_STEPS = 300;
/** As the engine caps the failing test's output it puts in a retry's prompt (step-runner.ts). */

export interface AttemptReport {
  bar: AttemptBar;
  /** What the retry prompt told this attempt about the one before (absent for a first attempt). */
  feedback?: string | undefined;
  /** The end of its tool log, secrets masked. */
  logTail: string[];
  /** The log's path relative to the project root. */
  logFile?: string | undefined;
  /** The log held more lines than shown. */
  logCut: boolean;
}

export interface Diff {
  /** commit: the step's commit on the run's branch; leftover: what an attempt that did not pass left behind. */
  source: "commit" | "leftover";
  /** The commit's sha, or the patch file relative to the project root. */
  ref: string;
  text: string;
  /** Why and how much was cut, when it was. */
  cut?: string | undefined;
}

export interface StepReport {
  row: TimelineRow;
  description?: string | undefined;
  /** The step's record in the run's state: for a step carried from an earlier run, its state there. */
  record?: StepRecord | undefined;
  approval?: { prompt: string; decided?: { approved: boolean; by: string; via: string; reason?: string | undefined } | undefined } | undefined;
  attempts: AttemptReport[];
  diff?: Diff | undefined;
  compensation?: { passed: boolean; reason: string; tail: string[]; undone?: string | undefined } | undefined;
}

export interface ReportData {
  wsId: string;
  name?: string | undefined;
  timeline: Timeline;
  /** The timeline's status, or "interrupted" for a run whose process is gone. */
  status: Timeline["status"] | "interrupted";
  /** Epoch ms the data was read (a running run is a snapshot of this moment). */
  readAt: number;
  /** Runs in the event log: a resume appends its own, the report shows the last. */
  runs: number;
  steps: StepReport[];
  /** The dependency graph coloured by result (Graphviz SVG), when it was drawn. */
  graphSvg?: string | undefined;
  /** What the page leaves out or could not show, one line each. */
  notes: string[];
}

export interface ReportInput {
  projectRoot: string;
  wsId: string;
  /** The workstream as its file says now; absent (missing or invalid file), no graph and no critical path. */
  workstream?: Workstream | undefined;
  /** ws's environment: its secret-looking values are masked in what the page shows from files. */
  env: NodeJS.ProcessEnv;
  now?: number | undefined;
}

/** The report's data, or undefined when the workstream never ran. */
export async function readReportData(input: ReportInput): Promise<ReportData | undefined> {
  const { projectRoot, wsId, workstream: ws } = input;
  const paths = wsPaths(projectRoot, wsId);
  const all = readEvents(paths.events).events;
  const events = lastRunEvents(all);
  if (events.length === 0) return undefined;
  const now = input.now ?? Date.now();
  const notes: string[] = [];
  const runs = all.filter((e) => e.type === "run-start").length;
  const start = events[0] as EventOf<"run-start">;
  if (ws && !sameFile(start.hash, ws)) {
    notes.push("the workstream file changed since this run: the graph and the critical path follow the file as it is now");
  }
  const graph = ws ? buildGraph(ws) : undefined;
  const run = lastRun(projectRoot, wsId);
  // A run whose process is gone ends at its last event, not at the moment the page is made.
  const gone = run?.interrupted === true && run.state.runId === start.runId;
  const timeline = buildTimeline({ events, deps: graph ? stepDeps(graph) : undefined, now: gone ? undefined : now });
  if (!ws) notes.push("the workstream file could not be read: no graph, no critical path");
  const status = gone ? "interrupted" : timeline.status;
  // Its process is gone: what was open at its last event ended there, unfinished, not "running".
  if (status === "interrupted") settleOpen(timeline);

  const secrets = secretValues([input.env, ...(ws ? ws.steps.map((s) => s.env) : []), ...(ws ? Object.values(ws.tools).map((t) => t.env) : [])]);
  const mask = (lines: string[]): string[] => (secrets.length === 0 ? lines : redactDeep({ tail: lines }, secrets).tail);
  const described = new Map(ws?.steps.map((s) => [s.id, s.description]) ?? []);
  const perStep = eventsByStep(events);
  const rel = (file: string) => path.relative(projectRoot, file);

  const steps: StepReport[] = timeline.rows.map((row) => {
    const own = perStep.get(row.step) ?? [];
    const report: StepReport = {
      row,
      description: described.get(row.step) || undefined,
      record: run?.state.steps[row.step],
      attempts: row.attempts.map((bar) => ({ bar, feedback: feedbackFor(bar.attempt, own), logTail: [], logCut: false })),
    };
    const wait = own.findLast((e): e is EventOf<"approval-wait"> => e.type === "approval-wait");
    const decided = own.findLast((e): e is EventOf<"approval-end"> => e.type === "approval-end");
    if (wait || decided) {
      report.approval = {
        prompt: wait?.prompt ?? "",
        decided: decided ? { approved: decided.approved, by: decided.by, via: decided.via, reason: decided.reason } : undefined,
      };
    }
    const comp = own.findLast((e): e is EventOf<"compensate-end"> => e.type === "compensate-end");
    if (comp) report.compensation = { passed: comp.passed, reason: formatReason(comp.reason), tail: comp.tail, undone: comp.undone };
    return report;
  });

  addLogTails(steps, paths, mask, rel, notes);
  await addDiffs(steps, projectRoot, paths, mask, rel, notes);
  let graphSvg: string | undefined;
  if (ws) {
    if (ws.steps.length > GRAPH_MAX_STEPS) notes.push(`the graph is left out: ${ws.steps.length} steps are more than a picture shows (ws graph ${wsId} --format svg draws it)`);
    else graphSvg = await drawGraph(ws, projectRoot);
  }
  return { wsId, name: ws?.name, timeline, status, readAt: now, runs, steps, graphSvg, notes };
}

function settleOpen(timeline: Timeline): void {
  for (const row of timeline.rows) {
    for (const bar of row.attempts) {
      if (!bar.open) continue;
      bar.open = false;
      bar.reason = "interrupted";
    }
    for (const segment of row.segments) segment.open = undefined;
  }
}

type StepEvent = Extract<RunEvent, { step: string }>;

function eventsByStep(events: readonly RunEvent[]): Map<string, StepEvent[]> {
  const byStep = new Map<string, StepEvent[]>();
  for (const event of events) {
    if (!("step" in event) || typeof event.step !== "string") continue;
    let list = byStep.get(event.step);
    if (!list) byStep.set(event.step, (list = []));
    list.push(event as StepEvent);
  }
  return byStep;
}

/** The end of each attempt's log, failed and running attempts first, within LOG_BUDGET. */
function addLogTails(steps: StepReport[], paths: WsPaths, mask: (l: string[]) => string[], rel: (f: string) => string, notes: string[]): void {
  const wanted = steps.flatMap((step) => step.attempts.map((a) => ({ step: step.row.step, a })));
  const order = wanted.filter((w) => !w.a.bar.passed).concat(wanted.filter((w) => w.a.bar.passed));
  let budget = LOG_BUDGET;
  let leftOut = 0;
  for (const { step, a } of order) {
    const file = a.bar.log !== undefined ? path.join(paths.root, a.bar.log) : paths.attemptLog(step, a.bar.attempt);
    if (budget <= 0) {
      if (fs.existsSync(file)) leftOut++;
      continue;
    }
    const { lines, cut } = tailLines(file, a.bar.passed ? PASSED_LOG_LINES : LOG_LINES);
    a.logTail = mask(lines);
    a.logCut = cut;
    if (lines.length > 0) a.logFile = rel(file);
    budget -= lines.reduce((sum, l) => sum + l.length + 1, 0);
  }
  if (leftOut > 0) notes.push(`the log tails of ${leftOut} passed attempts are left out: the page keeps ${LOG_BUDGET / 1024} KB of logs (ws logs <id> --step <step> prints each)`);
}

/**
 * What the engine's retry prompt said about the attempt before (the same retryFeedback, from the
 * same fields): the previous counted attempt of this run, when it failed. A first
 * attempt of a resumed run starts without feedback, as the engine's does.
 */
function feedbackFor(attempt: number, own: StepEvent[]): string | undefined {
  const before = own.findLast((e): e is EventOf<"attempt-end"> => e.type === "attempt-end" && e.attempt < attempt && e.free !== true);
  if (!before || before.passed || before.reason.kind === "cancelled") return undefined;
  const tests = before.reason.kind === "tests_failed" ? capFeedback(before.tail) : undefined;
  return retryFeedback(before.attempt, before.reason, before.detail, tests);
}

/** The last `count` lines of a file, read from its end only; none for a file that is not there. */
export function tailLines(file: string, count: number): { lines: string[]; cut: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return { lines: [], cut: false };
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, LOG_READ_BYTES);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    // A read that starts mid-file starts mid-line: that first piece is not a line of the log.
    if (length < size) lines.shift();
    return { lines: lines.slice(-count), cut: lines.length > count || length < size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Each step's diff: its commit (all of them in one `git log`, a process per step cost a second
 * at 1000 steps), else the leftover patch of its last attempt that did not pass.
 */
async function addDiffs(steps: StepReport[], projectRoot: string, paths: WsPaths, mask: (l: string[]) => string[], rel: (f: string) => string, notes: string[]): Promise<void> {
  const commits = new Map<string, StepReport>();
  for (const step of steps) {
    const commit = step.row.commit ?? (step.row.carried ? step.record?.commit : undefined);
    if (commit !== undefined && /^[0-9a-f]{7,64}$/.test(commit)) commits.set(commit, step);
  }
  const shown = commits.size > 0 ? await showCommits(projectRoot, [...commits.keys()]) : new Map<string, string>();
  let budget = DIFF_BUDGET;
  let leftOut = 0;
  const take = (step: StepReport, source: Diff["source"], ref: string, text: string, readCut: boolean) => {
    if (budget <= 0) {
      leftOut++;
      step.diff = { source, ref, text: "", cut: "left out: the report's room for diffs is used up" };
      return;
    }
    const capped = capDiff(text, Math.min(DIFF_BYTES, budget), readCut);
    budget -= capped.text.length;
    step.diff = { source, ref, text: mask(capped.text.split("\n")).join("\n"), cut: capped.cut };
  };
  for (const [commit, step] of commits) {
    const text = shown.get(commit);
    if (text !== undefined) take(step, "commit", commit, text, false);
    else step.diff = { source: "commit", ref: commit, text: "", cut: "the commit is not in the repository any more" };
  }
  for (const step of steps) {
    if (step.diff || step.row.state === "passed") continue;
    for (const attempt of [...step.attempts].reverse()) {
      const file = path.join(paths.stepDir(step.row.step), `attempt-${attempt.bar.attempt}.leftover.patch`);
      const read = readHead(file, DIFF_BYTES);
      if (read === undefined) continue;
      take(step, "leftover", rel(file), read.text, read.cut);
      break;
    }
  }
  if (leftOut > 0) notes.push(`${leftOut} diffs are left out: the page keeps ${DIFF_BUDGET / 1024} KB of diffs (git show <commit> prints each)`);
}

async function showCommits(projectRoot: string, commits: string[]): Promise<Map<string, string>> {
  const { gitRoot } = await import("../git/repo.js");
  const root = await gitRoot(projectRoot);
  const found = new Map<string, string>();
  if (root === undefined) return found;
  const { git } = await import("../git/run-git.js");
  // Explicit options, so the user's config (colour, prefixes, an external diff) can't change the text.
  const args = ["log", "--no-walk=unsorted", "--ignore-missing", "--stdin", "--patch-with-stat", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", "--format=%x00%H%n%s"];
  const result = await git(root, args, { input: commits.join("\n") + "\n", allowFailure: true });
  if (result.code !== 0) return found;
  for (const chunk of result.stdout.toString("utf8").split("\0")) {
    const newline = chunk.indexOf("\n");
    if (newline < 0) continue;
    const sha = chunk.slice(0, newline);
    const text = chunk.slice(newline + 1).replace(/\n+$/, "");
    for (const asked of commits) if (sha.startsWith(asked)) found.set(asked, text);
  }
  return found;
}


function capDiff(text: string, bytes: number, alreadyCut: boolean): { text: string; cut?: string | undefined } {
  const lines = text.split("\n");
  let kept = lines.length > DIFF_LINES ? lines.slice(0, DIFF_LINES) : lines;
  let joined = kept.join("\n");
  if (joined.length > bytes) {
    joined = joined.slice(0, bytes);
    joined = joined.slice(0, Math.max(0, joined.lastIndexOf("\n")));
    kept = joined.split("\n");
  }
  if (kept.length < lines.length || alreadyCut) {
    const rest = alreadyCut ? "more" : `${lines.length - kept.length} more lines`;
    return { text: joined, cut: `the first ${kept.length} lines are shown, ${rest} left out` };
  }
  return { text: joined };
}

/** The graph as `ws graph --format svg` draws it, coloured by the run's results. */
async function drawGraph(ws: Workstream, projectRoot: string): Promise<string> {
  const { workstreamView } = await import("../render/workstream-view.js");
  const { renderDot } = await import("../render/dot.js");
  const { dotToSvg } = await import("../render/svg.js");
  return dotToSvg(renderDot(workstreamView(ws, projectRoot)));
}
