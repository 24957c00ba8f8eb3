import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { git } from "../git/make-repo.js";

/**
 * Runs a GitHub Actions workflow's jobs one after another, in the order of their `needs`, each in
 * a fresh clone, the way a runner would: `run:` steps through bash (`-eo pipefail`, as GitHub's
 * default shell), `uses:` steps emulated. checkout = the clone; setup-node = nothing (this node
 * is there); pnpm/action-setup = a pnpm of the version package.json's `packageManager` names;
 * setup-python = a Python of the version asked for, first on the PATH (options.setupPython);
 * setup-uv = options.setupUv's bin folder first on the PATH (a stand-in where uv cannot be had);
 * upload/download-artifact = copies through a folder. $GITHUB_PATH and $GITHUB_ENV written by a
 * step reach the later steps, as on a runner. Anything else (another action, an expression other
 * than runner.temp) throws: the emulation must not pass by skipping it.
 */

interface WorkflowStep {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  "continue-on-error"?: boolean;
}

interface WorkflowJob {
  needs?: string[];
  if?: string;
  env?: Record<string, string>;
  steps: WorkflowStep[];
}

export interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

export interface StepResult {
  name: string;
  ok: boolean;
  skipped: boolean;
  output: string;
}

export interface JobResult {
  job: string;
  ok: boolean;
  steps: StepResult[];
  /** The job's clone, to inspect afterwards. */
  workspace: string;
}

export interface RunOptions {
  /** The repository the jobs check out (a path git can clone). */
  origin: string;
  /** Everything the run writes: clones, runner temp folders, artifacts, caches. */
  root: string;
  /** The environment every step starts from (PATH, HOME, caches); the workflow's env is added. */
  env: NodeJS.ProcessEnv;
  /** Puts a pnpm of this version on the PATH and returns its bin folder. */
  setupPnpm(version: string): string;
  /** A folder whose `python` and `python3` are a Python of this version (as setup-python's `3.11`). */
  setupPython?(version: string): string;
  /** A folder holding the `uv` that astral-sh/setup-uv would put on the PATH. */
  setupUv?(): string;
  timeoutMs: number;
}

/** Jobs ordered so that each comes after its needs (file order among the ready ones). */
export function jobOrder(workflow: Workflow): string[] {
  const order: string[] = [];
  const visit = (id: string, stack: string[]): void => {
    if (order.includes(id)) return;
    if (stack.includes(id)) throw new Error(`needs cycle: ${[...stack, id].join(" → ")}`);
    for (const need of workflow.jobs[id]?.needs ?? []) visit(need, [...stack, id]);
    order.push(id);
  };
  for (const id of Object.keys(workflow.jobs)) visit(id, []);
  return order;
}

export function runWorkflow(text: string, options: RunOptions): JobResult[] {
  const workflow = parse(text) as Workflow;
  const artifacts = path.join(options.root, "artifacts");
  fs.mkdirSync(artifacts, { recursive: true });
  const results = new Map<string, JobResult>();
  for (const job of jobOrder(workflow)) {
    const spec = workflow.jobs[job]!;
    const needsOk = (spec.needs ?? []).every((n) => results.get(n)?.ok);
    const always = spec.if === "always()";
    if (spec.if !== undefined && !always) throw new Error(`job ${job}: if: ${spec.if} is not emulated`);
    if (!needsOk && !always) {
      results.set(job, { job, ok: false, steps: [], workspace: "" });
      continue;
    }
    const needResults = (spec.needs ?? []).map((n) => results.get(n)?.ok ?? false);
    results.set(job, runJob(job, spec, needResults, workflow.env ?? {}, artifacts, options));
  }
  return [...results.values()];
}

/** The step conditions the exported workflows use. */
function stepCondition(condition: string, job: string, needResults: boolean[]): boolean {
  if (condition === "always()") return true;
  // The report job's last step: fail when a needed job failed (no job is ever cancelled here).
  if (condition === "contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled')") return needResults.includes(false);
  throw new NotEmulated(`job ${job}: step if: ${condition} is not emulated`);
}

function runJob(job: string, spec: WorkflowJob, needResults: boolean[], workflowEnv: Record<string, string>, artifacts: string, options: RunOptions): JobResult {
  const base = path.join(options.root, "jobs", job);
  const workspace = path.join(base, "work");
  const runnerTemp = path.join(base, "temp");
  fs.mkdirSync(runnerTemp, { recursive: true });
  const files = { output: path.join(base, "output"), path: path.join(base, "path"), env: path.join(base, "env"), summary: path.join(base, "summary") };
  for (const f of Object.values(files)) fs.writeFileSync(f, "");
  // The runner's own global prefix: `npm install --global` in this job installs here, fresh.
  const globalPrefix = path.join(base, "global");
  const extraPath: string[] = [path.join(globalPrefix, "bin")];
  // What steps wrote to $GITHUB_ENV: the later steps' environment.
  const jobEnv: Record<string, string> = {};
  const steps: StepResult[] = [];
  let failed = false;

  const expand = (value: string): string =>
    value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_m, expr: string) => {
      if (expr === "runner.temp") return runnerTemp;
      // A secret the repository does not have is the empty string on GitHub too.
      if (/^secrets\.[A-Za-z_][A-Za-z0-9_]*$/.test(expr)) return "";
      throw new NotEmulated(`job ${job}: the expression \${{ ${expr} }} is not emulated`);
    });

  for (const step of spec.steps) {
    const name = step.name ?? step.uses ?? step.run ?? "?";
    const runs = step.if === undefined ? !failed : stepCondition(step.if, job, needResults);
    if (!runs) {
      steps.push({ name, ok: true, skipped: true, output: "" });
      continue;
    }
    let ok = true;
    let output = "";
    try {
      if (step.run !== undefined) {
        const env: NodeJS.ProcessEnv = {
          ...options.env,
          ...workflowEnv,
          ...spec.env,
          ...jobEnv,
          ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v)])),
          PATH: [...extraPath, options.env.PATH].join(":"),
          npm_config_prefix: globalPrefix,
          CI: "true",
          GITHUB_ACTIONS: "true",
          GITHUB_WORKSPACE: workspace,
          RUNNER_TEMP: runnerTemp,
          GITHUB_OUTPUT: files.output,
          GITHUB_PATH: files.path,
          GITHUB_ENV: files.env,
          GITHUB_STEP_SUMMARY: files.summary,
        };
        const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step.run)], { cwd: workspace, env, encoding: "utf8", timeout: options.timeoutMs });
        output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
        ok = r.status === 0;
        for (const line of fs.readFileSync(files.path, "utf8").split("\n").filter(Boolean)) if (!extraPath.includes(line)) extraPath.unshift(line);
        Object.assign(jobEnv, readEnvFile(fs.readFileSync(files.env, "utf8")));
      } else {
        output = emulate(step, { job, workspace, artifacts, expand, options, extraPath });
      }
    } catch (error) {
      if (error instanceof NotEmulated) throw error;
      ok = false;
      output = String(error);
    }
    if (!ok && !step["continue-on-error"]) failed = true;
    steps.push({ name, ok, skipped: false, output });
  }
  return { job, ok: !failed, steps, workspace };
}

class NotEmulated extends Error {}

/** $GITHUB_ENV's two forms: `NAME=value` and `NAME<<DELIMITER` … `DELIMITER`. */
export function readEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`$GITHUB_ENV: ${heredoc[1]}<<${heredoc[2]} is never closed`);
      env[heredoc[1]!] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (line.includes("=")) {
      env[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return env;
}

/** setup-python's version: `python-version`, or the first line of `python-version-file` in the checkout. */
function pythonVersionOf(withs: Record<string, string>, workspace: string): string {
  if (withs["python-version"]) return withs["python-version"];
  const file = withs["python-version-file"];
  if (!file) throw new Error("setup-python: neither python-version nor python-version-file");
  const version = fs.readFileSync(path.join(workspace, file), "utf8").split("\n").map((l) => l.trim()).find((l) => l && !l.startsWith("#"));
  if (!version) throw new Error(`setup-python: ${file} names no version`);
  return version;
}

interface EmulateContext {
  job: string;
  workspace: string;
  artifacts: string;
  expand(value: string): string;
  options: RunOptions;
  extraPath: string[];
}

function emulate(step: WorkflowStep, ctx: EmulateContext): string {
  const uses = step.uses ?? "";
  const withs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, typeof v === "string" ? ctx.expand(v) : String(v)]));
  if (uses === "actions/checkout@v4") {
    git(path.dirname(ctx.workspace), "clone", "-q", ...(withs["fetch-depth"] === "0" ? [] : ["--depth", "1"]), `file://${ctx.options.origin}`, ctx.workspace);
    return "cloned";
  }
  if (uses === "actions/setup-node@v4") return `node ${process.version} is on the PATH`;
  if (uses === "pnpm/action-setup@v4") {
    const pkg = JSON.parse(fs.readFileSync(path.join(ctx.workspace, "package.json"), "utf8")) as { packageManager?: string };
    const version = withs.version ?? /^pnpm@([^+]+)/.exec(pkg.packageManager ?? "")?.[1];
    if (!version) throw new Error("pnpm/action-setup: no version, and package.json names none");
    ctx.extraPath.unshift(ctx.options.setupPnpm(version));
    return `pnpm ${version}`;
  }
  if (uses === "actions/setup-python@v5") {
    if (!ctx.options.setupPython) throw new NotEmulated(`job ${ctx.job}: setup-python is not emulated in this test (no setupPython)`);
    const version = pythonVersionOf(withs, ctx.workspace);
    ctx.extraPath.unshift(ctx.options.setupPython(version));
    return `python ${version}`;
  }
  if (uses === "astral-sh/setup-uv@v6") {
    if (!ctx.options.setupUv) throw new NotEmulated(`job ${ctx.job}: setup-uv is not emulated in this test (no setupUv)`);
    ctx.extraPath.unshift(ctx.options.setupUv());
    return "uv (stand-in)";
  }
  if (uses === "actions/upload-artifact@v4") {
    // One path a line, relative to the workspace (no globs: the workflows here name files).
    const files = withs.path!.split("\n").map((l) => l.trim()).filter(Boolean).map((f) => path.resolve(ctx.workspace, f));
    const name = withs.name!;
    const present = files.filter((f) => fs.existsSync(f));
    if (present.length === 0) {
      if (withs["if-no-files-found"] === "error") throw new Error(`upload-artifact: ${files.join(", ")} does not exist`);
      return `nothing to upload at ${files.join(", ")}`;
    }
    const target = path.join(ctx.artifacts, name);
    fs.mkdirSync(target, { recursive: true });
    for (const file of present) fs.cpSync(file, fs.statSync(file).isDirectory() ? target : path.join(target, path.basename(file)), { recursive: true });
    return `uploaded ${name}`;
  }
  if (uses === "actions/download-artifact@v4") {
    const pattern = new RegExp(`^${withs.pattern!.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const names = fs.readdirSync(ctx.artifacts).filter((n) => pattern.test(n));
    if (names.length === 0) throw new Error(`download-artifact: no artifact matches ${withs.pattern}`);
    for (const name of names) {
      const target = withs["merge-multiple"] === "true" ? withs.path! : path.join(withs.path!, name);
      fs.mkdirSync(target, { recursive: true });
      fs.cpSync(path.join(ctx.artifacts, name), target, { recursive: true });
    }
    return `downloaded ${names.join(", ")}`;
  }
  throw new NotEmulated(`job ${ctx.job}: ${uses} is not emulated`);
}

/** Every failed step of a run, with its output: "" when all passed, so a test's diff shows the cause. */
export function failures(results: JobResult[]): string {
  return results
    .flatMap((r) => r.steps.filter((s) => !s.ok).map((s) => `${r.job} / ${s.name}:\n${s.output}`))
    .join("\n\n");
}

/** Caches, config and HOME inside the temp root: nothing of the developer's, nothing left behind. */
export function isolatedEnv(temp: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const home = path.join(temp, "home");
  fs.mkdirSync(home, { recursive: true });
  return {
    PATH: process.env.PATH,
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
    HOME: home,
    XDG_CACHE_HOME: path.join(temp, "xdg-cache"),
    XDG_DATA_HOME: path.join(temp, "xdg-data"),
    XDG_STATE_HOME: path.join(temp, "xdg-state"),
    XDG_CONFIG_HOME: path.join(temp, "xdg-config"),
    npm_config_cache: path.join(temp, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
  };
}

export interface ExampleRepoOptions {
  /** The example's folder in this checkout. */
  example: string;
  /** This checkout (what `npm pack` packs). */
  root: string;
  temp: string;
  env: NodeJS.ProcessEnv;
  /** Names never copied (build output, environments, caches). */
  skip: (name: string) => boolean;
}

/**
 * The user's repository: the example as committed, with ws packed from this checkout at
 * vendor/ws-orchestrator.tgz, made once per temp root.
 */
export function exampleRepo(options: ExampleRepoOptions): string {
  const dir = path.join(options.temp, "origin");
  if (fs.existsSync(dir)) return dir;
  fs.cpSync(options.example, dir, { recursive: true, filter: (src) => src === options.example || !options.skip(path.basename(src)) });
  // dist/ is built before the tests; `prepare` would build it again.
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", options.temp, "--loglevel=error"], { cwd: options.root, encoding: "utf8", env: options.env })
    .trim()
    .split("\n")
    .at(-1)!;
  fs.mkdirSync(path.join(dir, "vendor"));
  fs.copyFileSync(path.join(options.temp, packed), path.join(dir, "vendor/ws-orchestrator.tgz"));
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "-c", "user.name=Example", "-c", "user.email=example@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m", `${path.basename(options.example)} example`);
  return dir;
}
