import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { jobIds, renderGithubWorkflow, secretsFor, timeoutMinutes, type RenderOptions } from "../../src/export/github.js";
import { buildGraph } from "../../src/graph/graph.js";
import type { Workstream } from "../../src/workstream/model.js";
import { actionlint } from "./actionlint.js";
import { makeWorkstream } from "./make-workstream.js";

interface Job {
  name: string;
  needs?: string[];
  if?: string;
  environment?: string;
  "timeout-minutes"?: number;
  env?: Record<string, string>;
  steps: Array<{ name?: string; uses?: string; run?: string; with?: Record<string, unknown>; if?: string }>;
}

/** A committed tarball: what most tests export with (the package-manager tests say otherwise). */
const TARBALL: RenderOptions = { ws: { kind: "tarball", path: "vendor/ws-orchestrator.tgz" } };

function exportOf(ws: Workstream, options: RenderOptions = TARBALL): { text: string; jobs: Record<string, Job> } {
  const text = renderGithubWorkflow(ws, buildGraph(ws), options);
  const doc = parse(text) as { jobs: Record<string, Job> };
  return { text, jobs: doc.jobs };
}

async function expectLintClean(text: string): Promise<void> {
  expect(await actionlint(text)).toEqual([]);
}

function runOf(job: Job, pattern: RegExp): string {
  const step = job.steps.find((s) => s.run !== undefined && pattern.test(s.run));
  if (!step?.run) throw new Error(`no step matching ${pattern}`);
  return step.run;
}

const diamond = makeWorkstream("ws-dependency-diamond", [
  { id: "A" },
  { id: "B", dependsOn: ["A"] },
  { id: "C", dependsOn: ["A"] },
  { id: "D", dependsOn: ["B", "C"] },
]);

describe("renderGithubWorkflow", () => {
  test("a diamond: one job per step, needs from depends_on, passes actionlint", async () => {
    const { text, jobs } = exportOf(diamond);
    await expectLintClean(text);
    expect(Object.keys(jobs)).toEqual(["A", "B", "C", "D", "ws-report"]);
    expect(jobs.A!.needs).toBeUndefined();
    expect(jobs.B!.needs).toEqual(["A"]);
    expect(jobs.D!.needs).toEqual(["B", "C"]);
    expect(jobs.D!.name).toBe("D");
    expect(runOf(jobs.D!, /ws run/)).toBe(`ws run --ws-id 'ws-dependency-diamond' --only 'D' --junit "$RUNNER_TEMP/ws-junit-D.xml"`);
  });

  test("no package manager: checkout with history, setup-node without a cache, ws from the committed tarball, installed globally", () => {
    const { text, jobs } = exportOf(diamond);
    const [checkout, node, install] = jobs.A!.steps;
    expect(checkout).toEqual({ uses: "actions/checkout@v4", with: { "fetch-depth": 0 } });
    // No `cache: npm` and no `npm ci`: both fail in a repository without package-lock.json.
    expect(node).toEqual({ uses: "actions/setup-node@v4", with: { "node-version": "20" } });
    expect(install).toEqual({ name: "Install ws", run: 'npm install --global --no-audit --no-fund "$WS_PACKAGE"' });
    // `./`: npm would read `vendor/x.tgz` as the GitHub repository vendor/x.tgz.
    expect((parse(text) as { env: Record<string, string> }).env).toEqual({ WS_PACKAGE: "./vendor/ws-orchestrator.tgz" });
    expect(text).not.toContain("ws-orchestrator@");
    expect(text).not.toContain("npm ci");
    expect(text).not.toContain("npx ");
    const git = parse(renderGithubWorkflow(diamond, buildGraph(diamond), { ws: { kind: "git", url: `git+https://github.com/o/ws.git#${"a".repeat(40)}` } })) as { env: Record<string, string> };
    expect(git.env.WS_PACKAGE).toBe(`git+https://github.com/o/ws.git#${"a".repeat(40)}`);
    const custom = parse(renderGithubWorkflow(diamond, buildGraph(diamond), { ...TARBALL, nodeVersion: "22" })) as { jobs: Record<string, Job> };
    expect(custom.jobs.A!.steps[1]!.with!["node-version"]).toBe("22");
  });

  test("changes travel: every ancestor's patch is applied, dependencies first, then committed", () => {
    const { jobs } = exportOf(diamond);
    expect(jobs.A!.steps.some((s) => s.uses === "actions/download-artifact@v4")).toBe(false);
    const apply = runOf(jobs.D!, /git apply/);
    expect(apply.split("\n")[0]).toBe("for job in A B C; do");
    expect(apply).toContain("commit --quiet --allow-empty -m 'ws: changes of A, B, C'");
    const steps = jobs.D!.steps.map((s) => s.name ?? s.uses ?? s.run);
    expect(steps.indexOf("Apply them in dependency order")).toBeLessThan(steps.indexOf("ws run --only D"));
    const upload = jobs.D!.steps.find((s) => s.with?.name === "ws-patch-D");
    expect(upload?.uses).toBe("actions/upload-artifact@v4");
    expect(upload?.if).toBeUndefined();
    const junit = jobs.D!.steps.find((s) => s.with?.name === "ws-junit-D");
    expect(junit?.if).toBe("always()");
    expect(runOf(jobs.D!, /git diff/)).toContain("git add -A && git diff --cached --binary > \"$RUNNER_TEMP/ws-patch-D.patch\"");
  });

  test("the report job needs every job, always runs, and fails when a step failed", () => {
    const { jobs } = exportOf(diamond);
    const report = jobs["ws-report"]!;
    expect(report.needs).toEqual(["A", "B", "C", "D"]);
    expect(report.if).toBe("always()");
    expect(report.steps.find((s) => s.with?.pattern === "ws-junit-*")?.uses).toBe("actions/download-artifact@v4");
    expect(report.steps.find((s) => s.with?.name === "ws-junit")?.uses).toBe("actions/upload-artifact@v4");
    expect(report.steps.at(-1)?.if).toContain("needs.*.result, 'failure'");
  });

  test("each job writes its run's HTML report, also when the step failed; the report job gathers them into one artifact", () => {
    const { jobs } = exportOf(diamond);
    const steps = jobs.D!.steps;
    const write = steps.find((s) => s.name === "Write the HTML report");
    expect(write?.if).toBe("always()");
    expect(write?.run).toBe(`ws report 'ws-dependency-diamond' -o "$RUNNER_TEMP/ws-report-D.html"`);
    const upload = steps.find((s) => s.with?.name === "ws-report-D");
    expect(upload).toMatchObject({ if: "always()", uses: "actions/upload-artifact@v4", with: { path: "${{ runner.temp }}/ws-report-D.html" } });
    expect(steps.indexOf(write!)).toBeGreaterThan(steps.findIndex((s) => s.name === "ws run --only D"));
    expect(steps.indexOf(upload!)).toBeGreaterThan(steps.indexOf(write!));
    const report = jobs["ws-report"]!;
    const download = report.steps.find((s) => s.with?.pattern === "ws-report-*");
    expect(download).toMatchObject({ uses: "actions/download-artifact@v4", "continue-on-error": true, with: { "merge-multiple": true } });
    expect(report.steps.find((s) => s.with?.name === "ws-report")).toMatchObject({ uses: "actions/upload-artifact@v4", with: { path: "${{ runner.temp }}/ws-report/" } });
  });

  test("groups in depends_on are expanded through the graph", async () => {
    const ws = makeWorkstream(
      "ws-groups",
      [{ id: "lint" }, { id: "unit" }, { id: "e2e" }, { id: "ship", dependsOn: ["checks"] }, { id: "announce", dependsOn: ["ship"] }],
      { stepGroups: [{ id: "checks", steps: ["lint", "unit", "e2e"], execute: "parallel", maxWorkers: undefined, succeed: "all", cancelRest: false, timeout: undefined }] },
    );
    const { text, jobs } = exportOf(ws);
    await expectLintClean(text);
    expect(jobs.ship!.needs).toEqual(["lint", "unit", "e2e"]);
    expect(jobs.announce!.needs).toEqual(["ship"]);
    expect(runOf(jobs.announce!, /git apply/).split("\n")[0]).toBe("for job in lint unit e2e ship; do");
  });

  test("odd step ids become valid, unique job ids; the step id stays the name", async () => {
    const ws = makeWorkstream("ws-odd", [
      { id: "01.setup" },
      { id: "Build" },
      { id: "build", dependsOn: ["01.setup"] },
      { id: "ws-report" },
      { id: "_x.y", dependsOn: ["build", "Build"] },
    ]);
    expect(jobIds(ws.steps.map((s) => s.id))).toEqual(["_01_setup", "Build", "build-2", "ws-report-2", "_x_y"]);
    const { text, jobs } = exportOf(ws);
    await expectLintClean(text);
    expect(jobs._x_y!.needs).toEqual(["Build", "build-2"]);
    expect(jobs["build-2"]!.name).toBe("build");
    expect(runOf(jobs._01_setup!, /ws run/)).toContain("--only '01.setup'");
  });

  test("only the API keys a step's tool needs", async () => {
    const ws = makeWorkstream(
      "ws-tools",
      [
        { id: "sh" },
        { id: "cl", tool: "claude" },
        { id: "cx", tool: "codex" },
        { id: "ge", tool: "gemini" },
        { id: "ai-gpt", tool: "aider", model: "gpt-4.1" },
        { id: "ai-default", tool: "aider" },
        { id: "mine", tool: "mytool" },
        { id: "wrapped", tool: "myclaude" },
      ],
      {
        defaults: { tool: "shell", model: "sonnet", retries: 0, retryDelay: 0, retryBackoff: 1, retryDelayMax: undefined },
        tools: {
          mytool: { command: "mytool", args: [], env: {} },
          myclaude: { command: "/usr/local/bin/claude", args: [], env: {} },
        },
      },
    );
    const keys = Object.fromEntries(ws.steps.map((s) => [s.id, secretsFor(ws, s)]));
    expect(keys).toEqual({
      sh: [],
      cl: ["ANTHROPIC_API_KEY"],
      cx: ["OPENAI_API_KEY", "CODEX_API_KEY"],
      ge: ["GEMINI_API_KEY"],
      "ai-gpt": ["OPENAI_API_KEY"],
      "ai-default": ["ANTHROPIC_API_KEY"],
      mine: [],
      wrapped: ["ANTHROPIC_API_KEY"],
    });
    const { text, jobs } = exportOf(ws);
    await expectLintClean(text);
    expect(jobs.sh!.env).toBeUndefined();
    expect(jobs.cx!.env).toEqual({ OPENAI_API_KEY: "${{ secrets.OPENAI_API_KEY }}", CODEX_API_KEY: "${{ secrets.CODEX_API_KEY }}" });
  });

  test("timeout-minutes covers every attempt and its tests, plus setup; none when the step has none", async () => {
    const ws = makeWorkstream("ws-time", [
      { id: "plain", timeout: 300 },
      { id: "retried", timeout: 90, retries: 2, acceptanceTests: [{ run: "a" }, { run: "b", timeout: 30 }] },
      { id: "unbounded", timeout: 0 },
    ]);
    expect(ws.steps.map(timeoutMinutes)).toEqual([10, 16, undefined]);
    const { text, jobs } = exportOf(ws);
    await expectLintClean(text);
    expect(jobs.plain!["timeout-minutes"]).toBe(10);
    expect("timeout-minutes" in jobs.unbounded!).toBe(false);
  });

  test("a step whose `when` is false still gets a job: ws decides at run time", () => {
    const ws = makeWorkstream("ws-when", [{ id: "always" }, { id: "never", when: { source: "${env.X == 'y'}", value: false } }]);
    expect(Object.keys(exportOf(ws).jobs)).toContain("never");
  });

  test("header, concurrency and what GitHub cannot express are stated", () => {
    const { text } = exportOf(makeWorkstream("ws-x", [{ id: "a" }], { execution: { ...diamond.execution, maxWorkers: 37 } }));
    expect(text.startsWith("# generated by ws export github; do not edit — regenerate with:\n#   ws export github --ws-id ws-x --ws-from vendor/ws-orchestrator.tgz -o <this file>\n")).toBe(true);
    expect(text).toContain("max_workers is not enforced across jobs");
    // "auto" resolves per machine: the number must not be in the text, or --check would drift.
    expect(text).not.toMatch(/\b37\b/);
    const doc = parse(text) as { concurrency: unknown; on: unknown };
    expect(doc.concurrency).toEqual({ group: "ws-ws-x", "cancel-in-progress": false });
    expect(doc.on).toEqual({ workflow_dispatch: {} });
  });

  test("a non-default workstreams folder is passed to ws run", async () => {
    const text = renderGithubWorkflow(diamond, buildGraph(diamond), { ...TARBALL, dir: "ci/streams" });
    expect(text).toContain("ws run --ws-id 'ws-dependency-diamond' --dir 'ci/streams' --only 'A'");
    await expectLintClean(text);
  });

  test("deterministic: the same input gives the same bytes", () => {
    const again = makeWorkstream("ws-dependency-diamond", [
      { id: "A" },
      { id: "B", dependsOn: ["A"] },
      { id: "C", dependsOn: ["A"] },
      { id: "D", dependsOn: ["B", "C"] },
    ]);
    expect(renderGithubWorkflow(again, buildGraph(again), TARBALL)).toBe(exportOf(diamond).text);
  });

  test("a wide, deep workstream stays lint-clean", async () => {
    const steps = Array.from({ length: 40 }, (_, i) => ({
      id: `s${i}`,
      dependsOn: i < 5 ? [] : [`s${i - 5}`, `s${(i * 7) % i}`],
      tool: ["shell", "claude", "codex", "gemini"][i % 4]!,
    }));
    await expectLintClean(exportOf(makeWorkstream("ws-wide", steps)).text);
  });

  test("actionlint does find problems (the check is live)", async () => {
    const broken = exportOf(diamond).text.replace("needs:\n      - A", "needs:\n      - nope");
    expect((await actionlint(broken)).length).toBeGreaterThan(0);
  });

  test("run_if becomes the job's if: always() / failure(), and the workflow still lints", async () => {
    const ws = makeWorkstream("ws-run-if", [
      { id: "build" },
      { id: "report", dependsOn: ["build"], runIf: "always" },
      { id: "notify", dependsOn: ["build"], runIf: "failure" },
      { id: "merge", dependsOn: ["report", "notify"], runIf: "success_or_skipped" },
    ]);
    const { text, jobs } = exportOf(ws);
    expect(jobs.build?.if).toBeUndefined();
    expect(jobs.report?.if).toBe("always()");
    expect(jobs.notify?.if).toBe("failure()");
    // The either/or join: a skipped need is GitHub's "skipped" result, which plain needs would not run after.
    expect(jobs.merge?.if).toBe("${{ !failure() && !cancelled() && contains(needs.*.result, 'success') }}");
    await expectLintClean(text);
  });

  test("an approval gate becomes the job's environment (its reviewers approve), and ws then does not ask again", async () => {
    const ws = makeWorkstream("ws-gated", [
      { id: "build" },
      { id: "deploy", dependsOn: ["build"], approval: { prompt: "Ship?" } },
      { id: "canary", dependsOn: ["build"], approval: { environment: "production" } },
    ]);
    const { text, jobs } = exportOf(ws);
    expect(jobs.build?.environment).toBeUndefined();
    expect(jobs.deploy?.environment).toBe("deploy");
    expect(jobs.canary?.environment).toBe("production");
    expect(runOf(jobs.deploy!, /ws run/)).toContain("--only 'deploy' --approve 'deploy'");
    expect(runOf(jobs.build!, /ws run/)).not.toContain("--approve");
    await expectLintClean(text);
  });

  test("outputs become job outputs, published from ws's state; a reader gets them through WS_STEP_OUTPUTS", async () => {
    const ws = makeWorkstream("ws-outputs", [
      { id: "build" },
      { id: "mid", dependsOn: ["build"] },
      { id: "ship", dependsOn: ["mid"], run: 'deploy "${steps.build.outputs.version}"', env: { N: "${steps.mid.outputs.n}" } },
    ]);
    const { text, jobs } = exportOf(ws);
    expect(jobs.build).toMatchObject({ outputs: { version: "${{ steps.ws-outputs.outputs.version }}" } });
    expect(jobs.mid).toMatchObject({ outputs: { n: "${{ steps.ws-outputs.outputs.n }}" } });
    expect(jobs.ship?.needs).toEqual(["build", "mid"]);
    const run = jobs.ship!.steps.find((s) => s.name === "ws run --only ship") as { env?: Record<string, string> };
    expect(run.env?.WS_STEP_OUTPUTS).toBe('{ "build": { "version": ${{ toJSON(needs.build.outputs.version) }} }, "mid": { "n": ${{ toJSON(needs.mid.outputs.n) }} } }');
    expect(runOf(jobs.build!, /GITHUB_OUTPUT/)).toContain(".worktrees/ws-outputs/state.json");
    await expectLintClean(text);
  });

  test("a job waiting for a succeed-any group runs when one of its needs passed", async () => {
    const ws = makeWorkstream("ws-any", [{ id: "a" }, { id: "b" }, { id: "after", dependsOn: ["alts"] }], {
      stepGroups: [{ id: "alts", steps: ["a", "b"], execute: "parallel", maxWorkers: undefined, succeed: "any", cancelRest: true, timeout: undefined }],
    });
    const { text, jobs } = exportOf(ws);
    expect(jobs.after?.if).toBe("${{ !cancelled() && contains(needs.*.result, 'success') }}");
    expect(text).toContain("cancel_rest are not expressed");
    await expectLintClean(text);
  });
});
