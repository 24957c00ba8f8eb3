import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, gitProject, makeProject, rec, readEvents, readRecord, recStep, waitFor, ws, wsAsync, type Project } from "../run/rig.js";
import { agentProject, cleanup as cleanupAgents, run as runAgents, ws as wsAgents } from "../agents/rig.js";
import { barIds, bars, deployDemo, links, report, rowOf, section, segments } from "./report-page.js";

afterEach(cleanup);
afterEach(cleanupAgents);

const DEMO = "ws-deploy-pipeline";

/** A page needs nothing from outside itself: every link points inside it. */
function expectSelfContained(html: string): void {
  for (const link of links(html)) expect(link, `a link out of the page: ${link}`).toMatch(/^#/);
  expect(html).not.toMatch(/<link\b|<iframe\b|<img\b|@import|url\((?!#)/i);
}

/** build → deploy (gated) → smoke, as the approval tests drive it. */
function gated(approval: object = { prompt: "Deploy to production?" }) {
  return {
    id: "gate",
    steps: [recStep("build", [], { compensate: rec("undo-build") }), recStep("deploy", [], { depends_on: ["build"], approval }), recStep("smoke", [], { depends_on: ["deploy"] })],
  };
}

async function waitingAtGate(p: Project): Promise<void> {
  await waitFor("the gate to wait", () => ws(p, ["status", "gate"]).stdout.includes("waiting for approval since"));
}

describe("ws report", () => {
  it("the deploy demo: one bar per attempt in file order, tests and commits inside, the critical path marked, each step's section with its diff; no link out of the page", () => {
    const p = deployDemo();
    expect(ws(p, ["run", DEMO]).code).toBe(0);
    const r = ws(p, ["report", DEMO]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(p.dir, ".worktrees", DEMO, "report.html");
    expect(r.stdout.trim()).toBe(file);
    const html = fs.readFileSync(file, "utf8");
    expect(barIds(html)).toEqual(["prepare", "unit-tests", "integration-tests", "e2e-tests", "deploy-staging", "deploy-docs", "update-cdn", "smoke-tests"].map((s) => `${s}/1:passed`));
    expect(bars(html)[0]!.title).toMatch(/^prepare · attempt 1 \(shell\) · start \+\d+(ms|\.\ds|s) · \d+(ms|\.\ds|s) · passed$/);
    // Each attempt's tests sit inside its bar; the commit follows it on the row.
    expect(rowOf(html, "prepare")).toMatch(/data-attempt="1"[^>]*>.*data-kind="test" data-test="1"/);
    expect(segments(html, "prepare").map((s) => s.kind)).toEqual(["wait-lane", "commit"]);
    expect(segments(html, "prepare")[1]!.x).toBeGreaterThan(segments(html, "prepare")[0]!.x);
    // The critical path is the longest chain by the durations measured (which of the parallel
    // test steps is longest depends on the machine's load): the header names it, its rows are marked.
    const chain = /<dt>critical path<\/dt><dd>[\d.]+m?s of [\d.]+m?s \(\d+%\)<small>([^<]+)<\/small>/.exec(html)?.[1]?.split(" → ") ?? [];
    expect(chain[0]).toBe("prepare");
    expect(chain.at(-1)).toBe("smoke-tests");
    expect(["unit-tests", "integration-tests", "e2e-tests"]).toContain(chain[1]);
    for (const step of barIds(html).map((b) => b.split("/")[0]!)) expect(rowOf(html, step).includes('class="label critical"'), step).toBe(chain.includes(step));
    expect(html).toMatch(/<dt>branch<\/dt><dd><code>ws\/ws-deploy-pipeline<\/code>/);
    expect(html).toMatch(/<dt>workers<\/dt><dd>4/);
    for (const step of ["prepare", "unit-tests", "deploy-production", "post-deploy"]) expect(html).toContain(`<section id="step-${step}"`);
    expect(section(html, "prepare")).toContain("<ins>+built</ins>");
    expect(section(html, "prepare")).toContain("b/out/build.txt");
    expect(section(html, "prepare")).toContain("<code>grep -q built out/build.txt</code> · passed");
    expect(section(html, "deploy-production")).toContain("↷ skipped");
    expect(rowOf(html, "post-deploy")).toContain("skipped: skipped_by:deploy-production");
    // The graph, coloured by result, each node a link to its step.
    expect(html).toMatch(/<section id="graph"[\s\S]*<a href="#step-smoke-tests">/);
    expect(html).toContain('fill="#d4edda"');
    expectSelfContained(html);
  });

  it("a retried step: a failed bar then a passed one; the retry's feedback names the failing test's output; secrets masked in the log", () => {
    const p = gitProject([
      {
        id: "retry",
        steps: [
          {
            id: "flaky",
            run: `echo "token is $DEPLOY_TOKEN" && echo v > out.txt`,
            env: { DEPLOY_TOKEN: "sekrit-value-123456" },
            file_scope: ["out.txt"],
            retries: 1,
            acceptance_tests: [rec("check", "--fail-first", 1, "--say", "expected 2 got 1")],
          },
          recStep("after", [], { depends_on: ["flaky"] }),
        ],
      },
    ]);
    expect(ws(p, ["run", "retry"]).code).toBe(0);
    const { html } = report(p, "retry");
    expect(barIds(html)).toEqual(["flaky/1:failed", "flaky/2:passed", "after/1:passed"]);
    expect(bars(html)[0]!.title).toContain("· tests_failed");
    const flaky = section(html, "flaky");
    expect(flaky).toMatch(/what the retry was told<\/summary><pre>The previous attempt \(1\) failed: tests_failed\.[\s\S]*expected 2 got 1/);
    expect(flaky).toContain("2 attempts");
    expect(flaky).toMatch(/<details class="log"><summary>log: [^<]*steps\/flaky\/attempt-2\.log<\/summary><pre>[\s\S]*token is \*\*\*/);
    expect(html).not.toContain("sekrit-value-123456");
  });

  it("--format trace: the same run as Chrome Trace Event JSON, an X slice per attempt with its tests inside, one thread per worker lane", () => {
    const p = gitProject([
      {
        id: "traced",
        steps: [
          { id: "flaky", run: "echo v > out.txt", file_scope: ["out.txt"], retries: 1, acceptance_tests: [rec("check", "--fail-first", 1)] },
          recStep("after", [], { depends_on: ["flaky"] }),
        ],
      },
    ]);
    expect(ws(p, ["run", "traced"]).code).toBe(0);
    const r = ws(p, ["report", "traced", "--format", "trace", "-o", "t.json"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(p.dir, "t.json"));
    type Slice = { name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; args?: Record<string, unknown> };
    const trace = JSON.parse(fs.readFileSync(path.join(p.dir, "t.json"), "utf8")) as { traceEvents: Slice[] };
    const attempts = trace.traceEvents.filter((e) => e.ph === "X" && (e as { cat?: string }).cat === "attempt");
    expect(attempts.map((e) => e.name)).toEqual([expect.stringContaining("flaky"), expect.stringContaining("flaky"), expect.stringContaining("after")]);
    for (const attempt of attempts.slice(0, 2)) {
      const inside = trace.traceEvents.filter((e) => (e as { cat?: string }).cat === "test" && e.tid === attempt.tid && e.ts >= attempt.ts && e.ts + (e.dur ?? 0) <= attempt.ts + attempt.dur!);
      expect(inside).toHaveLength(1);
    }
    expect(trace.traceEvents.some((e) => e.ph === "M" && e.name === "thread_name")).toBe(true);
    expect(ws(p, ["report", "traced", "--format", "svg"]).code).toBe(2);
  });

  it("a race: the winner's bar passes, the loser's is cut off, and the group's dependent follows", () => {
    const p = makeProject([
      {
        id: "race",
        step_groups: [{ id: "best", steps: ["fast", "slow"], succeed: "any", cancel_rest: true }],
        steps: [recStep("fast", ["--wait-starts", 2]), recStep("slow", ["--hang"]), recStep("use", [], { depends_on: ["best"] })],
      },
    ]);
    expect(ws(p, ["run", "race"]).code).toBe(0);
    const { html } = report(p, "race");
    expect(barIds(html)).toEqual(["fast/1:passed", "slow/1:cut", "use/1:passed"]);
    expect(bars(html)[1]!.title).toContain("lost its race (cut off)");
    expect(rowOf(html, "slow")).toContain('class="torn"');
    expect(section(html, "slow")).toContain("lost its race: stopped, its changes dropped");
    expect(html).toContain("lost its race (cut off)</li>");
    expectSelfContained(html);
  });

  it("an approval wait: a snapshot while the gate waits shows it open; after ws approve the page shows the wait before the gated step's bar", async () => {
    const p = makeProject([gated()]);
    const run = wsAsync(p, ["run", "gate"]);
    await waitingAtGate(p);
    const snapshot = report(p, "gate").html;
    expect(snapshot).toContain('<span class="status s-running">running</span>');
    expect(barIds(snapshot)).toEqual(["build/1:passed"]);
    expect(segments(snapshot, "deploy").map((s) => s.kind)).toContain("wait-approval");
    expect(rowOf(snapshot, "deploy")).toMatch(/class="seg k-wait-approval open"/);
    expect(section(snapshot, "deploy")).toContain("Approval gate “Deploy to production?”: waiting for a decision");
    expect(ws(p, ["approve", "gate", "--step", "deploy"]).code).toBe(0);
    expect((await run.done).code).toBe(0);
    const { html } = report(p, "gate");
    expect(barIds(html)).toEqual(["build/1:passed", "deploy/1:passed", "smoke/1:passed"]);
    const deploy = segments(html, "deploy");
    const wait = deploy.find((s) => s.kind === "wait-approval")!;
    expect(wait.x).toBeLessThan(Number(/data-step="deploy" data-attempt="1"[^>]*><title>[^<]*<\/title><rect class="[^"]*" x="([\d.]+)"/.exec(html)![1]));
    expect(section(html, "deploy")).toMatch(/Approval gate “Deploy to production\?”: approved by .+ \(ws approve \/ ws reject\) after \d/);
    expect(html).toContain("waiting for approval</li>");
  });

  it("a held run: the rejected gate's step has no bar, the header says held, the section says who rejected it and why", async () => {
    const p = makeProject([gated()]);
    const run = wsAsync(p, ["run", "gate"]);
    await waitingAtGate(p);
    expect(ws(p, ["reject", "gate", "--step", "deploy", "--reason", "freeze until Monday"]).code).toBe(0);
    expect((await run.done).code).toBe(4);
    const { html } = report(p, "gate");
    expect(html).toContain('<span class="status s-held">held</span>');
    expect(barIds(html)).toEqual(["build/1:passed"]);
    expect(segments(html, "deploy").map((s) => s.kind)).toEqual(["wait-approval"]);
    expect(section(html, "deploy")).toMatch(/rejected by .+: freeze until Monday/);
    expect(section(html, "deploy")).toContain("■ cancelled");
    expect(section(html, "deploy")).toContain('<span class="reason">held</span>');
  });

  it("a failed run with rollback: the failed bar, then the passed steps compensated last finished first, the rollback's span, and the failed step's leftover patch", () => {
    const p = gitProject([
      {
        id: "comp",
        steps: [
          { id: "a", run: "echo a > a.txt", file_scope: ["a.txt"], compensate: "echo undo a" },
          { id: "b", run: "echo b > b.txt", file_scope: ["b.txt"], depends_on: ["a"], compensate: "echo undo b" },
          { id: "c", run: "echo half > c.txt && exit 3", file_scope: ["c.txt"], depends_on: ["b"] },
        ],
      },
    ]);
    expect(ws(p, ["run", "comp"]).code).toBe(1);
    const { html } = report(p, "comp");
    expect(html).toContain('<span class="status s-failed">failed</span>');
    expect(barIds(html)).toEqual(["a/1:passed", "b/1:passed", "c/1:failed"]);
    expect(bars(html)[2]!.title).toContain("· exit:3");
    const compA = segments(html, "a").find((s) => s.kind === "compensate")!;
    const compB = segments(html, "b").find((s) => s.kind === "compensate")!;
    expect(compB.x).toBeLessThan(compA.x);
    expect(segments(html, "a").map((s) => s.kind)).toEqual(["wait-lane", "commit", "compensate"]);
    expect(html).toMatch(/<g class="rollback-span"><title>rollback · start/);
    expect(section(html, "b")).toMatch(/compensation: passed · undone by <code>[0-9a-f]{12}<\/code>/);
    expect(section(html, "b")).toContain("undo b");
    expect(section(html, "c")).toMatch(/diff: what it left behind: <code>\.worktrees\/comp\/steps\/c\/attempt-1\.leftover\.patch<\/code>/);
    expect(section(html, "c")).toContain("<ins>+half</ins>");
    expectSelfContained(html);
  });

  it("a resumed run: the page shows the last run; steps passed in the run before are marked carried", () => {
    const p = makeProject([{ id: "res", steps: [recStep("one"), recStep("two", ["--fail-first", 1], { depends_on: ["one"] })] }]);
    expect(ws(p, ["run", "res"]).code).toBe(1);
    expect(ws(p, ["run", "res", "--resume"]).code).toBe(0);
    expect(readEvents(p, "res").filter((e) => e.type === "run-start")).toHaveLength(2);
    const { html } = report(p, "res");
    expect(barIds(html)).toEqual(["two/2:passed"]);
    expect(rowOf(html, "one")).toContain("carried from an earlier run (passed)");
    expect(section(html, "one")).toContain("carried from an earlier run: this run did not select it");
    expect(html).toMatch(/a resume \(run 2 in the log\)/);
  });

  it("--watch rewrites the page until the run ends; -o writes where asked", async () => {
    const p = makeProject([gated()]);
    const run = wsAsync(p, ["run", "gate"]);
    await waitingAtGate(p);
    const watch = wsAsync(p, ["report", "gate", "--watch", "-o", "out/page.html"]);
    const file = path.join(p.dir, "out", "page.html");
    await waitFor("the first page", () => fs.existsSync(file) && fs.readFileSync(file, "utf8").includes("s-running"));
    // While the run goes on, the page reloads itself.
    expect(fs.readFileSync(file, "utf8")).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(ws(p, ["approve", "gate", "--step", "deploy"]).code).toBe(0);
    expect((await run.done).code).toBe(0);
    const done = await watch.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(file);
    const html = fs.readFileSync(file, "utf8");
    expect(html).toContain('<span class="status s-passed">passed</span>');
    expect(html).not.toContain('http-equiv="refresh"');
    expect(barIds(html)).toEqual(["build/1:passed", "deploy/1:passed", "smoke/1:passed"]);
  });

  it("agent steps: each attempt's and each step's cost and tokens, in its section and the table", () => {
    const p = agentProject(
      { id: "ws-cost", execution: { max_workers: 1 }, steps: [{ id: "c", tool: "claude", tasks: ["c"], file_scope: ["c.txt"] }, { id: "a", tool: "aider", tasks: ["a"], file_scope: ["a.txt"], retries: 1, acceptance_tests: ["grep -q good a.txt"] }] },
      { plan: { claude: [{ cost: 0.5, tokens: { input: 1000, output: 200 }, write: { path: "c.txt", content: "c\n" } }], aider: [{ cost: 0.25, write: { path: "a.txt", content: "bad\n" } }, { cost: 0.5, write: { path: "a.txt", content: "good\n" } }] } },
    );
    expect(runAgents(p).code).toBe(0);
    const r = wsAgents(p, ["report", p.wsId]);
    expect(r.code, r.stderr).toBe(0);
    const html = fs.readFileSync(r.stdout.trim(), "utf8");
    expect(barIds(html)).toEqual(["c/1:passed", "a/1:failed", "a/2:passed"]);
    expect(section(html, "c")).toMatch(/<p class="facts">1 attempt · [^<]* · \$0\.5000 1,200 tok<\/p>/);
    expect(section(html, "a")).toMatch(/attempt 1 · aider · [^<]*tests_failed · \$0\.2500/);
    expect(section(html, "a")).toMatch(/<p class="facts">2 attempts · [^<]*\$0\.7500 4,900 tok<\/p>/);
    expect(html).toMatch(/<td>\$0\.7500 4,900 tok<\/td>/);
    expect(section(html, "c")).toContain("<ins>+c</ins>");
  });

  it("a run whose process was killed: the page says interrupted and ends the step's bar where its events end, not running", async () => {
    const p = makeProject([{ id: "gone", steps: [recStep("first"), recStep("stuck", ["--hang"], { depends_on: ["first"] })] }]);
    const run = wsAsync(p, ["run", "gone"]);
    await waitFor("stuck to start", () => readRecord(p).some((l) => l.id === "stuck" && l.event === "start"));
    run.child.kill("SIGKILL");
    await run.done;
    const { html } = report(p, "gone");
    expect(html).toContain('<span class="status s-interrupted">interrupted</span>');
    expect(barIds(html)).toEqual(["first/1:passed", "stuck/1:cancelled"]);
    expect(bars(html)[1]!.title).toMatch(/· interrupted$/);
  });

  it("what steps print is text on the page, never markup", () => {
    const p = makeProject([{ id: "esc", steps: [{ id: "loud", run: "echo '<script>alert(1)</script> & \"x\"'; exit 1" }] }]);
    expect(ws(p, ["run", "esc"]).code).toBe(1);
    const { html } = report(p, "esc");
    expect(html).not.toContain("<script>alert(1)");
    expect(section(html, "loud")).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;");
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it("an unknown id, or one that never ran, is one clear message and exit 2", () => {
    const p = makeProject([{ id: "never", steps: [recStep("a")] }]);
    const typo = ws(p, ["report", "nevr"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown workstream "nevr"');
    const fresh = ws(p, ["report", "never"]);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toContain("never has not run yet: there is no run to report");
    expect(fresh.stderr).toContain("ws run never");
    expect(ws(p, ["report", "never", "--format", "pdf"]).code).toBe(2);
    const none = ws(p, ["report"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("ws report needs a workstream id");
  });
});
