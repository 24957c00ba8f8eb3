import { singleQuoted } from "../format/shell-quote.js";
import { Document, isMap, isScalar } from "yaml";
import type { Graph } from "../graph/graph.js";
import type { Step, Workstream } from "../workstream/model.js";
import { outputRefs } from "../workstream/interpolate.js";
import { agentInstalls } from "./agent-clis.js";
import { installCommand, pnpmForLockfile, type PackageManager } from "./package-manager.js";
import { describeToolchains, toolchainSteps, type Toolchain } from "./toolchain.js";
import { DEFAULT_TRIGGERS, onMap, triggerFlags, type Triggers } from "./triggers.js";
import { wsCommand, wsFromFlag, type WsSource } from "./ws-source.js";
import { artifactUpload, needsEnv } from "./artifact-upload.js";

/**
 * A GitHub Actions workflow running a workstream with one job per step. Each job checks out the
 * commit, applies the changes of the step's ancestors (patch artifacts, in topological order),
 * runs `ws run --only <step>`, and uploads its own changes as a patch for its dependents and its
 * run's HTML report (`ws report`). A final job collects the JUnit and HTML reports and the
 * combined changes. The text is deterministic, so
 * `ws export github --check` can compare it byte for byte.
 */

export interface RenderOptions {
  nodeVersion?: string | undefined;
  /**
   * Where each job gets ws: the repository's own dependency (its install brings it), or a
   * committed tarball / pinned git URL installed with `npm install --global`. Required: there is
   * no default, as ws is not on the registry.
   */
  ws: WsSource;
  /** The repository's package manager: set up and installed with in every step's job. Default none. */
  packageManager?: PackageManager | undefined;
  /** Python, Go, Rust as the repository holds them (detectToolchains): set up in every step's job. */
  toolchains?: readonly Toolchain[] | undefined;
  /** What starts the workflow; default workflow_dispatch. */
  triggers?: Triggers | undefined;
  /** The workstreams folder relative to the repository root, when it is not `workstreams`. */
  dir?: string | undefined;
  /** Custom tools the user said the runner has (`--tool-installed`): only named in the header. */
  toolsInstalled?: string[] | undefined;
}

const REPORT_JOB = "ws-report";
/** Minutes for checkout, setup-node, installing ws and the artifacts, on top of the step's own limit. */
const SETUP_MINUTES = 5;

const GIT_USER = `-c user.name=ws -c user.email=ws@users.noreply.github.com`;

/** Job ids must match `^[A-Za-z_][A-Za-z0-9_-]*$` and are compared without case. */
export function jobIds(stepIds: string[]): string[] {
  const taken = new Set<string>([REPORT_JOB]);
  return stepIds.map((id) => {
    let base = id.replace(/[^A-Za-z0-9_-]/g, "_");
    if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
    let candidate = base;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${base}-${n}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}


/** Every ancestor of `node`, dependencies before dependents (DFS post-order, file order on ties). */
function ancestorsInOrder(graph: Graph, node: number): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  const visit = (n: number): void => {
    for (const dep of graph.deps[n] ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      visit(dep);
      order.push(dep);
    }
  };
  visit(node);
  return order;
}

/** All nodes, dependencies first (cycles are rejected before export; this just won't loop). */
function topological(graph: Graph): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  const visit = (n: number): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const dep of graph.deps[n] ?? []) visit(dep);
    order.push(n);
  };
  graph.ids.forEach((_, n) => visit(n));
  return order;
}

const KEYS_BY_COMMAND: Record<string, string[]> = {
  claude: ["ANTHROPIC_API_KEY"],
  codex: ["OPENAI_API_KEY", "CODEX_API_KEY"],
  gemini: ["GEMINI_API_KEY"],
};

/** The API keys a step's tool reads; aider's depend on the model's provider. */
export function secretsFor(ws: Workstream, step: Step): string[] {
  const tool = ws.tools[step.tool]?.command.split("/").pop() ?? step.tool;
  if (tool === "aider") {
    const model = (step.model ?? ws.defaults.model ?? "").toLowerCase();
    if (/claude|sonnet|opus|haiku|anthropic/.test(model)) return ["ANTHROPIC_API_KEY"];
    if (/gpt|openai|^o\d/.test(model)) return ["OPENAI_API_KEY"];
    if (/gemini/.test(model)) return ["GEMINI_API_KEY"];
    return ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"];
  }
  return KEYS_BY_COMMAND[tool] ?? [];
}

/**
 * The job's time limit: every attempt may use the step's timeout plus its tests' timeouts; ws
 * enforces the real limits, this only stops a hung runner. Undefined (GitHub's default of 360)
 * when the step has no timeout.
 */
export function timeoutMinutes(step: Step): number | undefined {
  if (step.timeout <= 0) return undefined;
  const tests = step.acceptanceTests.reduce((sum, t) => sum + (t.timeout ?? step.timeout), 0);
  return Math.ceil(((step.timeout + tests) * (step.retries + 1)) / 60) + SETUP_MINUTES;
}

function applyScript(jobs: string[], patchDir: string, commitMessage: string | undefined): string {
  const lines = [
    `for job in ${jobs.join(" ")}; do`,
    `  patch="${patchDir}/ws-patch-$job/ws-patch-$job.patch"`,
    // A step that changed nothing uploads an empty patch, which `git apply` refuses.
    `  if [ -s "$patch" ]; then git apply --index "$patch"; fi`,
    `done`,
  ];
  if (commitMessage) lines.push(`git ${GIT_USER} commit --quiet --allow-empty -m ${singleQuoted(commitMessage)}`);
  return lines.join("\n");
}

/** The job's `if:`: run_if as GitHub's own status functions. A join after an either/or runs when
 *  a need passed and none failed (a skipped need is GitHub's `skipped` result, not a failure). */
function jobCondition(ws: Workstream, step: Step): { if?: string } {
  if (step.runIf === "success_or_skipped") return { if: "${{ !failure() && !cancelled() && contains(needs.*.result, 'success') }}" };
  if (step.runIf !== "success") return { if: `${step.runIf}()` };
  return anyGroupOnly(ws, step) ? { if: "${{ !cancelled() && contains(needs.*.result, 'success') }}" } : {};
}

/** A step that waits only for one `succeed: "any"` group: its job runs when one of its needs passed. */
function anyGroupOnly(ws: Workstream, step: Step): boolean {
  const [only, ...rest] = step.dependsOn;
  return rest.length === 0 && ws.stepGroups.some((g) => g.id === only && g.succeed === "any");
}

/** Which steps read which keys of which ancestors (`${steps.<id>.outputs.<key>}`; group references are not exported). */
function outputReads(ws: Workstream, graph: Graph): { reads: Map<number, Map<number, Set<string>>>; keys: Map<number, Set<string>> } {
  const reads = new Map<number, Map<number, Set<string>>>();
  const keys = new Map<number, Set<string>>();
  ws.steps.forEach((step, node) => {
    const texts = [step.run ?? "", ...step.tasks, ...Object.values(step.env), ...step.acceptanceTests.map((t) => t.run)];
    const found = [...texts.flatMap((t) => outputRefs(t)), ...outputRefs(step.when?.source ?? "", true)];
    for (const ref of found) {
      const from = graph.index.get(ref.step);
      if (from === undefined) continue;
      let byStep = reads.get(node);
      if (!byStep) reads.set(node, (byStep = new Map()));
      let set = byStep.get(from);
      if (!set) byStep.set(from, (set = new Set()));
      set.add(ref.key);
      let published = keys.get(from);
      if (!published) keys.set(from, (published = new Set()));
      published.add(ref.key);
    }
  });
  return { reads, keys };
}

/** WS_STEP_OUTPUTS for `ws run --only`: a JSON object whose values GitHub fills in from the needs' job outputs. */
function importedOutputs(reads: Map<number, Set<string>>, graph: Graph, ids: string[]): string {
  const parts = [...reads.entries()].sort(([a], [b]) => a - b).map(([from, keys]) => {
    const fields = [...keys].sort().map((k) => `${JSON.stringify(k)}: \${{ toJSON(needs.${ids[from]}.outputs.${k}) }}`);
    return `${JSON.stringify(graph.ids[from])}: { ${fields.join(", ")} }`;
  });
  return `{ ${parts.join(", ")} }`;
}

/** Writes the step's recorded outputs to $GITHUB_OUTPUT (heredoc form: values may span lines). */
function publishOutputsStep(wsId: string, stepId: string): Record<string, unknown> {
  const script = [
    `const fs = require("fs");`,
    `const state = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));`,
    `const outputs = (state.steps[process.argv[2]] || {}).outputs || {};`,
    `for (const [k, v] of Object.entries(outputs)) fs.appendFileSync(process.env.GITHUB_OUTPUT, k + "<<WS_EOF_" + process.argv[3] + "\\n" + v + "\\nWS_EOF_" + process.argv[3] + "\\n");`,
  ].join(" ");
  return {
    name: "Publish the step's outputs",
    id: "ws-outputs",
    run: `node -e ${singleQuoted(script)} ${singleQuoted(`.worktrees/${wsId}/state.json`)} ${singleQuoted(stepId)} "$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"`,
  };
}

/** The flags of `ws export github` that give this output again (for the header and --check's advice). */
export function exportFlags(options: Pick<RenderOptions, "ws" | "triggers" | "dir" | "toolsInstalled">): string {
  const dir = options.dir && options.dir !== "workstreams" ? ` --dir ${options.dir}` : "";
  const from = wsFromFlag(options.ws);
  const tools = (options.toolsInstalled ?? []).map((t) => ` --tool-installed ${t}`).join("");
  return `${dir}${triggerFlags(options.triggers ?? DEFAULT_TRIGGERS)}${from === undefined ? "" : ` --ws-from ${from}`}${tools}`;
}

export function renderGithubWorkflow(ws: Workstream, graph: Graph, options: RenderOptions): string {
  const ids = jobIds(graph.ids);
  const dirFlag = options.dir && options.dir !== "workstreams" ? ` --dir ${singleQuoted(options.dir)}` : "";
  const pm = options.packageManager ?? { name: "none" };
  const toolchains = options.toolchains ?? [];
  const ctx: JobContext = { ws, graph, ids, dirFlag, nodeVersion: options.nodeVersion ?? "20", refs: outputReads(ws, graph), pm, source: options.ws, toolchains };
  const jobs: Record<string, unknown> = {};
  ws.steps.forEach((step, node) => (jobs[ids[node]!] = stepJob(ctx, step, node)));
  jobs[REPORT_JOB] = reportJob(ws, topological(graph).map((n) => ids[n]!));

  const wsPackage = options.ws.kind === "tarball" ? `./${options.ws.path}` : options.ws.kind === "git" ? options.ws.url : undefined;
  const doc = new Document({
    name: `ws ${ws.id}`,
    on: onMap(options.triggers ?? DEFAULT_TRIGGERS),
    permissions: { contents: "read" },
    // Two runs of one workstream would race on the same changes; the later one waits.
    concurrency: { group: `ws-${ws.id}`, "cancel-in-progress": false },
    // One place to change which ws the jobs install (a tarball in the repository, a pinned git
    // URL). `./` keeps npm from reading `vendor/x.tgz` as a GitHub repository `vendor/x.tgz`.
    ...(wsPackage === undefined ? {} : { env: { WS_PACKAGE: wsPackage } }),
    jobs,
    // Every job repeats the same setup objects (ci.setup, the toolchain's): written out in each,
    // not as YAML anchors and aliases, which a reader of one job would have to chase.
  }, { aliasDuplicateObjects: false });
  doc.commentBefore = headerComment(ws, exportFlags(options), options.ws, pm, toolchains);
  // A blank line between jobs, for the reader of a long file.
  const jobsNode = doc.get("jobs", true);
  if (isMap(jobsNode)) {
    jobsNode.items.forEach((pair, i) => {
      if (i > 0 && isScalar(pair.key)) pair.key.spaceBefore = true;
    });
  }
  return doc.toString({ lineWidth: 0 });
}

const PATCH_DIR = "${{ runner.temp }}/ws-patches";

interface JobContext {
  ws: Workstream;
  graph: Graph;
  ids: string[];
  dirFlag: string;
  nodeVersion: string;
  refs: ReturnType<typeof outputReads>;
  pm: PackageManager;
  source: WsSource;
  toolchains: readonly Toolchain[];
}

/**
 * The package manager's setup and the frozen install, so the steps' own commands find their
 * node_modules. pnpm's and yarn berry's setup come before setup-node: its cache asks them where
 * their store is.
 */
function setupSteps(pm: PackageManager, nodeVersion: string): unknown[] {
  const steps: unknown[] = [];
  if (pm.name === "pnpm") {
    // With `packageManager` in package.json the action reads the version there (given both, it
    // refuses when they differ); without it, the major that reads this lockfile.
    steps.push({ name: "Set up pnpm", uses: "pnpm/action-setup@v4", ...(pm.version ? {} : { with: { version: pnpmForLockfile(pm.lockfileVersion) } }) });
  }
  if (pm.name === "yarn" && pm.berry) steps.push({ name: "Set up yarn (corepack)", run: "corepack enable" });
  if (pm.name === "bun") steps.push({ name: "Set up bun", uses: "oven-sh/setup-bun@v2", ...(pm.version ? { with: { "bun-version": pm.version } } : {}) });
  // setup-node's cache needs the lockfile; bun keeps its own.
  const cache = pm.name !== "none" && pm.name !== "bun" && pm.lockfile !== undefined ? { cache: pm.name } : {};
  steps.push({ uses: "actions/setup-node@v4", with: { "node-version": nodeVersion, ...cache } });
  const install = installCommand(pm);
  if (install) steps.push({ name: `Install dependencies (${pm.name})`, run: install });
  return steps;
}

/**
 * What a step's job has before the step runs: the checkout, Node and the package manager's
 * install, the project's toolchains, the workstream's own `ci.setup`, the agent CLIs and ws.
 */
function environmentSteps(ctx: JobContext, step: Step): unknown[] {
  const { ws, nodeVersion, pm, source, toolchains } = ctx;
  return [
    { uses: "actions/checkout@v4", with: { "fetch-depth": 0 } },
    ...setupSteps(pm, nodeVersion),
    ...toolchainSteps(toolchains),
    ...(ws.ci?.setup ?? []),
    ...agentInstalls(ws, step).map((install) =>
      install.kind === "npm"
        ? { name: `Install ${install.spec}`, run: `npm install --global --no-audit --no-fund ${install.spec}` }
        : { name: `Install ${install.spec}`, run: `pipx install ${install.spec}` },
    ),
    // A dependency of the repository came with its install; anything else is installed globally.
    ...(source.kind === "dependency" ? [] : [{ name: "Install ws", run: 'npm install --global --no-audit --no-fund "$WS_PACKAGE"' }]),
  ];
}

/** One step's job: install ws, apply the ancestors' patches, run the step, hand on its patch. */
function stepJob(ctx: JobContext, step: Step, node: number): Record<string, unknown> {
  const { ws, graph, ids, dirFlag, refs, pm, source } = ctx;
  const stepId = step.id;
  const patchDir = PATCH_DIR;
  const job = ids[node]!;
  const ancestors = ancestorsInOrder(graph, node).map((n) => ids[n]!);
  const reads = refs.reads.get(node) ?? new Map<number, Set<string>>();
  // A job can read only its direct needs' outputs: the ancestors it reads from are added (they run before it anyway).
  const needs = [...new Set([...(graph.deps[node] ?? []), ...reads.keys()])].sort((a, b) => a - b).map((n) => ids[n]!);
  const published = refs.keys.get(node);
  const secrets = secretsFor(ws, step);
  const minutes = timeoutMinutes(step);
  const junit = `$RUNNER_TEMP/ws-junit-${job}.xml`;
  const patch = `$RUNNER_TEMP/ws-patch-${job}.patch`;
  const report = `$RUNNER_TEMP/ws-report-${job}.html`;
  const steps = environmentSteps(ctx, step);
  if (ancestors.length > 0) {
    steps.push(
      {
        name: "Download the changes of earlier steps",
        uses: "actions/download-artifact@v4",
        with: { pattern: "ws-patch-*", path: patchDir },
      },
      {
        name: "Apply them in dependency order",
        run: applyScript(ancestors, "$RUNNER_TEMP/ws-patches", `ws: changes of ${ancestors.join(", ")}`),
      },
    );
  }
  steps.push(
    {
      name: `ws run --only ${stepId}`,
      ...(reads.size > 0 || step.runIf !== "success" ? { env: { ...(reads.size > 0 ? { WS_STEP_OUTPUTS: importedOutputs(reads, graph, ids) } : {}), ...needsEnv(step) } } : {}),
      // The environment's reviewers approved before the job started: ws must not wait again.
      run: `${wsCommand(source, pm)} run --ws-id ${singleQuoted(ws.id)}${dirFlag} --only ${singleQuoted(stepId)}${step.approval ? ` --approve ${singleQuoted(stepId)}` : ""} --junit "${junit}"`,
    },
    ...(published ? [publishOutputsStep(ws.id, stepId)] : []),
    ...artifactUpload(ws.id, step, job),
    {
      name: "Record the step's changes as a patch",
      // With worktree isolation ws commits a passed step on branch ws/<id>; otherwise the
      // changes are in the working tree.
      run: [
        `if git rev-parse --quiet --verify ${singleQuoted(`refs/heads/ws/${ws.id}`)} >/dev/null; then`,
        `  git diff --binary HEAD ${singleQuoted(`ws/${ws.id}`)} > "${patch}"`,
        `else`,
        `  git add -A && git diff --cached --binary > "${patch}"`,
        `fi`,
      ].join("\n"),
    },
    {
      name: "Upload the patch",
      uses: "actions/upload-artifact@v4",
      with: { name: `ws-patch-${job}`, path: `\${{ runner.temp }}/ws-patch-${job}.patch`, "if-no-files-found": "error" },
    },
    {
      name: "Upload the JUnit report",
      if: "always()",
      uses: "actions/upload-artifact@v4",
      with: { name: `ws-junit-${job}`, path: `\${{ runner.temp }}/ws-junit-${job}.xml`, "if-no-files-found": "ignore" },
    },
    // The run's state lives in this job's checkout only: its HTML report is written here, also
    // (above all) when the step failed, and the ws-report job gathers them.
    {
      name: "Write the HTML report",
      if: "always()",
      run: `${wsCommand(source, pm)} report ${singleQuoted(ws.id)}${dirFlag} -o "${report}"`,
    },
    {
      name: "Upload the HTML report",
      if: "always()",
      uses: "actions/upload-artifact@v4",
      with: { name: `ws-report-${job}`, path: `\${{ runner.temp }}/ws-report-${job}.html`, "if-no-files-found": "ignore" },
    },
  );
  return {
    name: stepId,
    ...(needs.length > 0 ? { needs } : {}),
    // run_if maps onto GitHub's own status functions; ws run --only then runs the step without asking again.
    ...jobCondition(ws, step),
    "runs-on": "ubuntu-latest",
    // An approval gate is the environment's required reviewers (set in the repository's settings).
    ...(step.approval ? { environment: step.approval.environment } : {}),
    ...(minutes !== undefined ? { "timeout-minutes": minutes } : {}),
    ...(published ? { outputs: Object.fromEntries([...published].sort().map((k) => [k, `\${{ steps.ws-outputs.outputs.${k} }}`])) } : {}),
    ...(secrets.length > 0 ? { env: Object.fromEntries(secrets.map((k) => [k, `\${{ secrets.${k} }}`])) } : {}),
    steps,
  };
}

/** The last job: the JUnit and HTML reports, every passed step's changes, and the run's verdict. */
function reportJob(ws: Workstream, all: string[]): Record<string, unknown> {
  const patchDir = PATCH_DIR;
  return {
    name: "ws report",
    ...(all.length > 0 ? { needs: all } : {}),
    if: "always()",
    "runs-on": "ubuntu-latest",
    steps: [
      { uses: "actions/checkout@v4" },
      {
        name: "Download the JUnit reports",
        uses: "actions/download-artifact@v4",
        // Nothing to download when every job failed early; the report job must still finish.
        "continue-on-error": true,
        with: { pattern: "ws-junit-*", path: "${{ runner.temp }}/ws-junit", "merge-multiple": true },
      },
      {
        name: "Download the HTML reports",
        uses: "actions/download-artifact@v4",
        "continue-on-error": true,
        with: { pattern: "ws-report-*", path: "${{ runner.temp }}/ws-report", "merge-multiple": true },
      },
      {
        name: "Download the patches",
        uses: "actions/download-artifact@v4",
        "continue-on-error": true,
        with: { pattern: "ws-patch-*", path: patchDir },
      },
      {
        name: "Combine the changes of every passed step",
        run: `${applyScript(all, "$RUNNER_TEMP/ws-patches", undefined)}\ngit diff --cached --binary > "$RUNNER_TEMP/ws-changes.patch"`,
      },
      {
        name: "Upload the JUnit report",
        uses: "actions/upload-artifact@v4",
        with: { name: "ws-junit", path: "${{ runner.temp }}/ws-junit/", "if-no-files-found": "warn" },
      },
      {
        name: "Upload the HTML reports",
        uses: "actions/upload-artifact@v4",
        with: { name: "ws-report", path: "${{ runner.temp }}/ws-report/", "if-no-files-found": "warn" },
      },
      {
        name: "Upload the combined changes",
        uses: "actions/upload-artifact@v4",
        with: { name: "ws-changes", path: "${{ runner.temp }}/ws-changes.patch" },
      },
      {
        name: "Fail when a step failed",
        if: "contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled')",
        run: `echo ${singleQuoted(`::error title=ws::a step of ${ws.id} failed or was cancelled; see its job`)}\nexit 1`,
      },
    ],
  };
}

/** What the jobs set up, for the header: the reader sees at once why a tool is (not) there. */
function environmentLines(pm: PackageManager, toolchains: readonly Toolchain[], ciSetup: number): string[] {
  const lines = describeToolchains(toolchains).map((t) => ` ${t}.`);
  if (lines.length > 0 && pm.name === "none") lines.push(` Node: only to run ws (the repository has no package.json).`);
  if (ciSetup > 0) lines.push(` ci.setup of the workstream: ${ciSetup} step${ciSetup === 1 ? "" : "s"}, after the toolchains.`);
  return lines;
}

function headerComment(ws: Workstream, flags: string, source: WsSource, pm: PackageManager, toolchains: readonly Toolchain[]): string {
  const from =
    source.kind === "dependency"
      ? `ws: the repository's own dependency (${source.spec}), installed by ${pm.name}`
      : source.kind === "tarball"
        ? `ws: the tarball ${source.path} committed in the repository`
        : `ws: ${source.url}`;
  return [
    ` generated by ws export github; do not edit — regenerate with:`,
    `   ws export github --ws-id ${ws.id}${flags} -o <this file>`,
    ` ${ws.name}${ws.description ? `: ${ws.description}` : ""}`.replace(/\s*\n\s*/g, " "),
    ` ${from}.`,
    ...environmentLines(pm, toolchains, ws.ci?.setup.length ?? 0),
    ``,
    ` One job per step; "needs" follows depends_on. Each job applies the patches of the step's`,
    ` ancestors, runs "ws run --only <step>" and uploads its own changes as ws-patch-<job>.`,
    ` Each job also writes "ws report" of its run. The ws-report job uploads the JUnit reports`,
    ` (ws-junit), the HTML reports, one per job (ws-report), and all changes (ws-changes).`,
    ``,
    // No max_workers value here: "auto" resolves to the exporting machine's CPUs, and the text
    // must not differ between machines or --check would fail in CI.
    ` Not expressed: max_workers is not enforced across jobs; GitHub caps parallel jobs only`,
    ` inside a matrix (strategy.max-parallel). Jobs start as soon as their needs`,
    ` pass and a runner is free; step_groups' max_workers/sequential, file_conflicts "serialize" and`,
    ` on_failure "stop"/"abort" are not enforced either (a failed job skips its dependents only).`,
    ` A step group's timeout and cancel_rest are not expressed (jobs cannot stop each other); a job`,
    ` that waits for one "succeed: any" group runs when one of its needs passed. Compensations`,
    ` are not run here (each job has its own checkout and no run state): use ws run --rollback.`,
  ].join("\n");
}
