import { describe, expect, test } from "vitest";
import { renderMarkdownSummary } from "../../src/report/markdown-summary.js";
import { foldEvents, type RunState } from "../../src/store/run-state.js";
import { makeWorkstream } from "../export/make-workstream.js";
import { RunLog } from "./run-events.js";
import { renderGanttMermaid } from "../../src/report/gantt-mermaid.js";
import { buildTimeline } from "../../src/report/timeline.js";

const ws = makeWorkstream("ws-sum", [{ id: "A" }, { id: "B|pipe" }, { id: "C", dependsOn: ["B|pipe"] }, { id: "D" }], {
  name: "Summary demo",
  description: "three steps",
});

function stateOf(log: RunLog): RunState {
  const state = foldEvents(log.events);
  if (!state) throw new Error("no run");
  return state;
}

const run = new RunLog()
  .start("ws-sum", ["A", "B|pipe", "C", "D"], { selected: ["A", "B|pipe", "C"] })
  .attempt("A", 1, { passed: true, usage: { costUsd: 0.25, inputTokens: 1000, outputTokens: 200 } })
  .end("A", "passed", "passed", 1, 64_000)
  .attempt("B|pipe", 1, { passed: false, usage: { costUsd: 0.5, inputTokens: 3000 } })
  .attempt("B|pipe", 2, { passed: false })
  .end("B|pipe", "failed", "tests_failed", 2, 4_500)
  .end("C", "blocked", "blocked_by:B|pipe", 0, 0)
  .finish("failed", 40_000, 68_500);

describe("renderMarkdownSummary", () => {
  const md = renderMarkdownSummary(ws, stateOf(run), "graph TD\n  A --> B\n");

  test("title with the outcome in words", () => {
    expect(md.split("\n")[0]).toBe("# ws run: ws-sum — failed");
    expect(md).toContain("**Summary demo**: three steps");
  });

  test("totals: time, step times summed, speedup, cost and tokens", () => {
    expect(md).toContain("| outcome | failed (exit 1) |");
    expect(md).toContain("| steps | 1 passed, 1 failed, 1 blocked, 1 pending |");
    expect(md).toContain("| wall time | 40s |");
    expect(md).toContain("| step times summed | 1m09s |");
    expect(md).toContain("| speedup | 1.7x vs steps summed |");
    expect(md).toContain("| cost | $0.75 |");
    // The same total, in the same format, as the table's cells (1,200 + 3,000): never "4000 in" beside "4,200 tok".
    expect(md).toContain("| tokens | 4,200 tok (4,000 in, 200 out) |");
  });

  test("one table row per step, pipes escaped, with each agent step's cost and tokens", () => {
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| step") && l.split(" | ").length === 6);
    expect(rows).toEqual([
      "| A | passed | 1 | 1m04s |  | $0.2500 1,200 tok |",
      "| B\\|pipe | failed | 2 | 4.5s | tests_failed | $0.5000 3,000 tok |",
      "| C | blocked | 0 | 0ms | blocked_by:B\\|pipe |  |",
      "| D | not selected | 0 |  |  |  |",
    ]);
  });

  test("the graph in a mermaid block, or no graph section", () => {
    expect(md).toContain("```mermaid\ngraph TD\n  A --> B\n```");
    const without = renderMarkdownSummary(ws, stateOf(run), undefined);
    expect(without).not.toContain("mermaid");
    expect(without).not.toContain("## Graph");
  });

  test("the run's timeline as a Mermaid gantt before the graph: a task per attempt, the pipe of an id kept", () => {
    const gantt = renderGanttMermaid(buildTimeline({ events: run.events, deps: { A: [], "B|pipe": [], C: ["B|pipe"], D: [] } }));
    const withGantt = renderMarkdownSummary(ws, stateOf(run), "graph TD\n  A --> B\n", gantt);
    const block = /## Timeline\n\n```mermaid\n([\s\S]*?)```/.exec(withGantt)?.[1] ?? "";
    expect(block.split("\n")[0]).toBe("gantt");
    expect(block).toContain("  section B|pipe\n");
    expect(block.match(/^ {4}attempt \d/gm)).toHaveLength(3);
    expect(withGantt.indexOf("## Timeline")).toBeLessThan(withGantt.indexOf("## Graph"));
    expect(withGantt).not.toContain("more steps ran");
    const cut = renderMarkdownSummary(ws, stateOf(run), undefined, { ...gantt, omitted: 7 });
    expect(cut).toContain("7 more steps ran; `ws report ws-sum` draws them all.");
    expect(md).not.toContain("## Timeline");
  });

  test("no cost or token lines when no tool reported usage; a running run has no totals yet", () => {
    const plain = new RunLog().start("ws-sum", ["A", "B|pipe", "C", "D"]).attempt("A", 1, { passed: true });
    const text = renderMarkdownSummary(ws, stateOf(plain), undefined);
    expect(text.split("\n")[0]).toBe("# ws run: ws-sum — running");
    expect(text).not.toContain("| cost |");
    expect(text).not.toContain("| tokens |");
    expect(text).not.toContain("| speedup |");
    expect(text).toContain("| A | running | 1 |");
  });
});

describe("renderMarkdownSummary: approvals", () => {
  test("says who approved or rejected each gated step, how, when and why", () => {
    const gated = makeWorkstream("ws-gates", [{ id: "ship" }, { id: "canary" }]);
    const log = new RunLog().start("ws-gates", ["ship", "canary"]);
    log.events.push(
      { type: "approval-wait", at: "2026-11-30T14:02:00.000Z", step: "ship", prompt: "Ship?" },
      { type: "approval-end", at: "2026-11-30T14:05:00.000Z", step: "ship", approved: true, by: "alice", via: "command" },
      { type: "approval-end", at: "2026-11-30T14:06:00.000Z", step: "canary", approved: false, by: "bob", via: "prompt", reason: "canary | red" },
    );
    const md = renderMarkdownSummary(gated, stateOf(log.finish("failed", 1000, 1000)), undefined);
    expect(md).toContain("## Approvals");
    expect(md).toContain("| ship | approved | alice | ws approve / ws reject | 2026-11-30T14:05:00.000Z |  |");
    expect(md).toContain("| canary | rejected | bob | the run's terminal | 2026-11-30T14:06:00.000Z | canary \\| red |");
  });

  test("a run held at a rejected gate says held, with its exit code", () => {
    const gated = makeWorkstream("ws-gates", [{ id: "ship" }]);
    const log = new RunLog().start("ws-gates", ["ship"]);
    log.events.push(
      { type: "approval-end", at: "2026-11-30T14:06:00.000Z", step: "ship", approved: false, by: "bob", via: "command" },
      { type: "step-end", at: "2026-11-30T14:06:00.000Z", step: "ship", state: "cancelled", reason: { kind: "held" }, attempts: 0, durationMs: 0, detail: "by bob; held" },
      { type: "run-end", at: "2026-11-30T14:06:01.000Z", outcome: "held", exitCode: 4, durationMs: 1000, sequentialMs: 0 },
    );
    const md = renderMarkdownSummary(gated, stateOf(log), undefined);
    expect(md.split("\n")[0]).toBe("# ws run: ws-gates — held");
    expect(md).toContain("| outcome | held (exit 4) |");
    expect(md).toMatch(/\| ship \|.*cancelled.*\| held/);
  });
});
