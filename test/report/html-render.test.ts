import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { escapeHtml, renderHtmlReport } from "../../src/report/html-report.js";
import type { ReportData } from "../../src/report/report-data.js";
import { buildTimeline } from "../../src/report/timeline.js";
import type { StepRecord } from "../../src/store/run-state.js";
import { barIds, section } from "./report-page.js";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** The page drawn from data made by hand: what no run through the binary can show yet. */
function page(events: RunEvent[], records: Record<string, Partial<StepRecord>> = {}): string {
  const timeline = buildTimeline({ events, now: T0 + 5000 });
  const data: ReportData = {
    wsId: "w",
    timeline,
    status: timeline.status,
    readAt: T0 + 5000,
    runs: 1,
    steps: timeline.rows.map((row) => ({ row, record: { id: row.step, state: row.state, attempts: row.attempts.length, selected: true, ...records[row.step] }, attempts: row.attempts.map((bar) => ({ bar, logTail: [], logCut: false })) })),
    notes: [],
  };
  return renderHtmlReport(data);
}

describe("the HTML report's drawing", () => {
  it("a running agent's last activity and its spend so far are in its section", () => {
    const html = page(
      [
        { type: "run-start", at: at(0), runId: "r", wsId: "w", file: "/w.json", hash: "0", steps: ["agent"], selected: ["agent"], maxWorkers: 1, pid: 1, resume: false, workdir: "/tmp" },
        { type: "step-start", at: at(10), step: "agent", attempt: 1, tool: "claude" },
        { type: "activity", at: at(900), step: "agent", attempt: 1, kind: "edit", text: "src/app.ts", usage: { costUsd: 0.12, inputTokens: 900, outputTokens: 100 } },
      ],
      { agent: { activity: { at: at(900), attempt: 1, kind: "edit", text: "src/app.ts", usage: { costUsd: 0.12, inputTokens: 900, outputTokens: 100 } } } },
    );
    expect(barIds(html)).toEqual(["agent/1:open"]);
    expect(section(html, "agent")).toContain('<p class="activity">now (attempt 1): edit src/app.ts · $0.1200 1,000 tok so far</p>');
    expect(html).toContain('<span class="status s-running">running</span>');
  });

  it("escapes text and attribute values alike", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});
