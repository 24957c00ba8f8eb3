import { printedReasons } from "../helpers/reasons.js";
import { BIN, startWs, ws as runWs } from "../helpers/cli.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { git, makeRepo, removeRepos, writeFiles } from "../git/make-repo.js";
import { FAKE_TOOLS, readLog, type LogEntry } from "../tools/helpers.js";
import { lanesHome } from "../../src/git/lanes.js";

/**
 * The rig of the agent-step integration tests: a temp project (a git repository unless asked
 * otherwise) holding one workstream written as an object, the fake agent CLIs of
 * test/fixtures/tools/ first on PATH, their plan and call log kept OUTSIDE the project (so the
 * user's `git status` only shows what ws itself did), and the built binary
 * (`npx tsc -p tsconfig.json` first; `npm test` builds it).
 */

export { BIN };
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export { FAKE_TOOLS, git };

const scratch: string[] = [];

export interface AgentProject {
  dir: string;
  wsId: string;
  /** The fakes' call log (one line per invocation; see fake-tool-core.mjs). */
  log: string;
  plan: string;
  /** .worktrees/<id> */
  state: string;
  /** The first step's worktree (isolation: worktree): where a run of one worker works. */
  tree: string;
  stepDir(step: string): string;
}

export interface ProjectOptions {
  /** Default true: a git repository with `files` and the workstream in its first commit. */
  git?: boolean;
  files?: Record<string, string>;
  /** {"<tool>": [action of invocation 1, 2, ...]} for the fakes (the last action repeats). */
  plan?: Record<string, object[]>;
}

/** The first of a workstream's per-step worktrees (lanes.ts), outside the project. */
export function firstLane(dir: string, wsId: string): string {
  return path.join(lanesHome(dir, `ws/${wsId}`, process.env), "lane-1");
}

export function tempDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  scratch.push(dir);
  return dir;
}

export function agentProject(ws: { id: string; [key: string]: unknown }, options: ProjectOptions = {}): AgentProject {
  const aux = tempDir("ws-agents-aux-");
  // Agent steps run sandboxed by default where bwrap works: the fakes' plan and call log (in the
  // private /tmp's place) must stay reachable, as a user's sandbox.writable would make them.
  const execution = (ws.execution ?? {}) as { sandbox?: { writable?: string[] } };
  ws = { ...ws, execution: { ...execution, sandbox: { ...execution.sandbox, writable: [...(execution.sandbox?.writable ?? []), aux] } } };
  const files = { ...(options.files ?? { "README.md": "# project\n" }), [`workstreams/${ws.id}.json`]: JSON.stringify(ws, null, 2) + "\n" };
  let dir: string;
  if (options.git === false) {
    dir = tempDir("ws-agents-");
    writeFiles(dir, files);
  } else {
    dir = makeRepo(files);
  }
  const plan = path.join(aux, "plan.json");
  fs.writeFileSync(plan, JSON.stringify(options.plan ?? {}));
  const state = path.join(dir, ".worktrees", ws.id);
  return { dir, wsId: ws.id, log: path.join(aux, "calls.jsonl"), plan, state, tree: firstLane(dir, ws.id), stepDir: (step) => path.join(state, "steps", step) };
}

/** A project whose files are already in place (a git repository or not) and whose workstream is `wsId`. */
export function existingProject(dir: string, wsId: string): AgentProject {
  const aux = tempDir("ws-agents-aux-");
  const plan = path.join(aux, "plan.json");
  fs.writeFileSync(plan, "{}");
  const state = path.join(dir, ".worktrees", wsId);
  return { dir, wsId, log: path.join(aux, "calls.jsonl"), plan, state, tree: firstLane(dir, wsId), stepDir: (step) => path.join(state, "steps", step) };
}

/** Replaces the fakes' plan and restarts their invocation counters (e.g. before a --resume). */
export function setPlan(project: AgentProject, plan: Record<string, object[]>): void {
  fs.writeFileSync(project.plan, JSON.stringify(plan));
  for (const file of fs.readdirSync(path.dirname(project.plan))) {
    if (file.startsWith("plan.json.") && file.endsWith(".count")) fs.rmSync(path.join(path.dirname(project.plan), file));
  }
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary in the project with a clean environment and the fakes first on PATH. */
export function ws(project: AgentProject, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Result {
  return runWs(args, { cwd: project.dir, env: wsEnv(project, extraEnv) });
}

function wsEnv(project: AgentProject, extraEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: `${FAKE_TOOLS}${path.delimiter}${process.env.PATH ?? ""}`,
    HOME: process.env.HOME, WS_WORKTREES_DIR: process.env.WS_WORKTREES_DIR,
    // A key, so that aider without a model is allowed to start (it picks its model from the key).
    ANTHROPIC_API_KEY: "sk-ant-test",
    FAKE_TOOL_LOG: project.log,
    FAKE_TOOL_PLAN: project.plan,
    ...extraEnv,
  };
}

export function run(project: AgentProject, extra: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Result {
  return ws(project, ["run", "--ws-id", project.wsId, ...extra], extraEnv);
}

/** `run` without blocking the test process, for independent cases run side by side (it.concurrent). */
export function runConcurrent(project: AgentProject, extra: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return startWs(["run", "--ws-id", project.wsId, ...extra], { cwd: project.dir, env: wsEnv(project, extraEnv) }).done;
}

export function calls(project: AgentProject): LogEntry[] {
  return readLog(project.log);
}

export interface EventLine {
  type: string;
  at: string;
  step?: string;
  [key: string]: unknown;
}

export function events(project: AgentProject): EventLine[] {
  return fs
    .readFileSync(path.join(project.state, "events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line, printedReasons) as EventLine);
}

export interface StepJson {
  state: string;
  reason?: string;
  attempts: number;
  commit?: string;
  usage?: { costUsd?: number; inputTokens?: number; outputTokens?: number };
}

export interface StateJson {
  status: string;
  exitCode?: number;
  branch?: string;
  workdir: string;
  steps: Record<string, StepJson>;
  breakers: Record<string, { state: string; failures: number }>;
}

export function readState(project: AgentProject): StateJson {
  return JSON.parse(fs.readFileSync(path.join(project.state, "state.json"), "utf8"), printedReasons) as StateJson;
}

/** Step id → [state, attempts, reason]: one value to compare a whole run with. */
export function outcomes(project: AgentProject): Record<string, [string, number, string | undefined]> {
  const steps = readState(project).steps;
  return Object.fromEntries(Object.entries(steps).map(([id, s]) => [id, [s.state, s.attempts, s.reason]]));
}

/** A compact event trace: "step-start s1#1", "breaker claude open", "step-end s1 failed"... */
export function trace(project: AgentProject, keep: (e: EventLine) => boolean = () => true): string[] {
  return events(project)
    .filter(keep)
    .flatMap((e) => {
      switch (e.type) {
        case "step-start":
          return [`step-start ${e.step}#${String(e.attempt)}`];
        case "attempt-end":
          return [`attempt-end ${e.step}#${String(e.attempt)} ${String(e.reason)}${e.free ? " free" : ""}`];
        case "step-end":
          return [`step-end ${e.step} ${String(e.state)} ${String(e.reason)}`];
        case "breaker":
          return [`breaker ${String(e.tool)} ${String(e.state)}`];
        default:
          return [];
      }
    });
}

/** `git log --format=%s` of a ref, newest first. */
export function subjects(dir: string, ref: string): string[] {
  return git(dir, "log", "--no-merges", "--format=%s", ref).split("\n").filter(Boolean);
}

/** The files a commit changed, sorted. */
export function filesOf(dir: string, commit: string): string[] {
  return git(dir, "show", "--name-only", "--format=", commit).split("\n").filter(Boolean).sort();
}

export function cleanup(): void {
  removeRepos();
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
