import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Step, Workstream } from "../../src/workstream/model.js";
import { rawStep, workstreamOf, type StepFields } from "../helpers/workstream.js";
import type { ProcessExit, ResultParser, ToolContext, ToolVerdict } from "../../src/tools/types.js";

export const FAKE_TOOLS = fileURLToPath(new URL("../fixtures/tools/", import.meta.url));

export function tempDir(prefix = "ws-tools-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The tool tests' usual step: an aider step on src/math.py with one task and one retry. */
const STEP: StepFields = { id: "step-01", description: "Create the math module", tool: "aider", tasks: ["Write add(a, b)"], fileScope: ["src/math.py"], timeout: 0, retries: 1 };

/** That step with `overrides`, built through the schema and the real normalizer (test/helpers/workstream.ts). */
export function makeStep(overrides: Partial<StepFields> = {}): Step {
  return makeWorkstream([{ ...STEP, ...overrides }]).steps[0]!;
}

/** A workstream of `steps` (made by makeStep, or written with the model's field names), through the real normalizer. */
export function makeWorkstream(steps: StepFields[], overrides: { defaults?: { tool?: string; model?: string | undefined; retries?: number }; tools?: Workstream["tools"] } = {}): Workstream {
  const defaults = { tool: "shell", retries: 0, ...overrides.defaults };
  if (defaults.model === undefined) delete defaults.model;
  const doc = { id: "ws-test", name: "Test", defaults: defaults as { tool: string; model?: string; retries: number }, tools: overrides.tools, steps: steps.map(rawStep) };
  // No steps: a holder of tool definitions for the registry tests, which the schema alone refuses.
  return workstreamOf(doc, { schema: steps.length > 0 });
}

/** A context whose binaries are the fakes (via PATH) and whose state folder is a temp dir. */
export function makeContext(step: Step, options: { ws?: Workstream; cwd?: string; attempt?: number; feedback?: string; env?: NodeJS.ProcessEnv } = {}): ToolContext {
  const root = tempDir();
  const cwd = options.cwd ?? path.join(root, "work");
  fs.mkdirSync(cwd, { recursive: true });
  return {
    workstream: options.ws ?? makeWorkstream([step]),
    step,
    cwd,
    attempt: options.attempt ?? 1,
    feedback: options.feedback,
    stepDir: path.join(root, "state", "steps", step.id),
    env: options.env ?? { PATH: `${FAKE_TOOLS}${path.delimiter}${process.env.PATH ?? ""}` },
  };
}

export interface Ran {
  exit: ProcessExit;
  stdout: string;
  stderr: string;
}

/** Spawns like the step runner does: argv array, stdin the prompt file or closed, no shell. */
export function runTool(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; stdinFile?: string | undefined }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const stdin = options.stdinFile === undefined ? "ignore" : fs.openSync(options.stdinFile, "r");
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: [stdin, "pipe", "pipe"] as const });
    if (typeof stdin === "number") fs.closeSync(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // A safety net only: a fake that hangs fails the test instead of stalling the suite.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ exit: { exitCode: code, signal, outcome: "exited" }, stdout, stderr });
    });
  });
}

export function feed(parser: ResultParser, ran: { stdout: string; stderr: string; exit: ProcessExit }): ToolVerdict {
  for (const line of ran.stderr.split("\n")) if (line) parser.onLine(line, "stderr");
  for (const line of ran.stdout.split("\n")) if (line) parser.onLine(line, "stdout");
  return parser.finish(ran.exit);
}

export function exited(code: number): ProcessExit {
  return { exitCode: code, signal: null, outcome: "exited" };
}

export interface LogEntry {
  tool: string;
  argv: string[];
  cwd: string;
  workdir?: string;
  prompt?: string;
  env: Record<string, string>;
  invocation?: number;
  error?: string;
  grandchildPid?: number;
}

export function readLog(file: string): LogEntry[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as LogEntry);
}

/** Env for running an adapter's invocation against the fakes, with a log and an optional plan. */
export function fakeEnv(ctx: ToolContext, extra: Record<string, string>, plan?: Record<string, unknown[]>): { env: NodeJS.ProcessEnv; log: string } {
  const dir = tempDir("ws-fake-");
  const log = path.join(dir, "calls.jsonl");
  const env: NodeJS.ProcessEnv = { ...process.env, ...ctx.env, ...extra, FAKE_TOOL_LOG: log };
  if (plan) {
    const planFile = path.join(dir, "plan.json");
    fs.writeFileSync(planFile, JSON.stringify(plan));
    env.FAKE_TOOL_PLAN = planFile;
  }
  return { env, log };
}
