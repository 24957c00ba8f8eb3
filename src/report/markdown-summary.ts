import { formatReason, reasonText } from "../events/end-reason.js";
import { attemptsCell } from "../format/attempts.js";
import { formatDuration } from "../format/duration.js";
import type { ApprovalVia, StepState } from "../events/run-event.js";
import { isUndone, totalUsage, type RunState, type StepRecord } from "../store/run-state.js";
import { formatTokens, formatUsage } from "../format/usage.js";
import type { Workstream } from "../workstream/model.js";
import type { Gantt } from "./gantt-mermaid.js";
import { listedWaves, runSpans } from "./group-timing.js";

/**
 * The Markdown page a CI job shows for a run (GitHub's step summary): outcome, totals, one table
 * row per step, the run's timeline as a Mermaid gantt and the graph as Mermaid (both rendered by
 * GitHub). Pure: the caller writes it.
 */


// A cell must stay on one line and a `|` would end it early.
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function stateText(record: StepRecord): string {
  if (record.state === "pending" && !record.selected) return "not selected";
  if (isUndone(record)) return "undone (compensated)";
  return record.selected || record.state === "pending" ? record.state : `${record.state} (earlier run)`;
}

const APPROVAL_VIA: Record<ApprovalVia, string> = { flag: "ws run --approve", command: "ws approve / ws reject", prompt: "the run's terminal", timeout: "its timeout" };

const STATE_ORDER: StepState[] = ["passed", "failed", "blocked", "skipped", "cancelled", "running", "pending"];

export function renderMarkdownSummary(ws: Workstream, state: RunState, mermaid: string | undefined, gantt?: Gantt | undefined): string {
  const lines: string[] = [`# ws run: ${ws.id} — ${state.status}`, ""];
  if (ws.name && ws.name !== ws.id) lines.push(`**${cell(ws.name)}**${ws.description ? `: ${cell(ws.description)}` : ""}`, "");

  const records = state.order.map((id) => state.steps[id]).filter((r): r is StepRecord => r !== undefined);
  const counts = STATE_ORDER.map((s) => [s, records.filter((r) => r.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);

  const totals: Array<[string, string]> = [];
  totals.push(["outcome", state.exitCode === undefined ? state.status : `${state.status} (exit ${state.exitCode})`]);
  totals.push(["steps", counts.join(", ") || "none"]);
  if (state.durationMs !== undefined) totals.push(["wall time", formatDuration(state.durationMs)]);
  if (state.sequentialMs !== undefined) totals.push(["step times summed", formatDuration(state.sequentialMs)]);
  if (state.estimateMs !== undefined && state.durationMs !== undefined) totals.push(["estimate", `estimated ${formatDuration(state.estimateMs)}, took ${formatDuration(state.durationMs)}`]);
  if (state.durationMs && state.sequentialMs !== undefined) {
    // Against the summed step times, not a measured one-at-a-time run (steps sharing the machine run slower).
    totals.push(["speedup", `${(state.sequentialMs / state.durationMs).toFixed(1)}x vs steps summed`]);
  }
  totals.push(...parallelRows(state));
  const usage = totalUsage(state);
  if (usage?.costUsd !== undefined) totals.push(["cost", `$${usage.costUsd.toFixed(2)}`]);
  const tokens = formatTokens(usage);
  if (tokens !== "") totals.push(["tokens", tokens]);
  lines.push("| | |", "|---|---|", ...totals.map(([k, v]) => `| ${k} | ${cell(v)} |`), "");

  const withUsage = records.some((r) => r.usage);
  lines.push("## Steps", "", `| step | state | attempts | duration | reason |${withUsage ? " cost/tokens |" : ""}`, `|---|---|---:|---:|---|${withUsage ? "---:|" : ""}`);
  for (const r of records) {
    // The one-line message says what the code cannot (the test's summary line, the tool's error, the fix).
    const reason = r.reason && r.reason.kind !== r.state ? reasonText(r.reason, r.detail) : "";
    const usage = withUsage ? ` ${cell(formatUsage(r.usage))} |` : "";
    lines.push(`| ${cell(r.id)} | ${stateText(r)} | ${attemptsCell(r.attempts, r.interrupted) || "0"} | ${r.durationMs === undefined ? "" : formatDuration(r.durationMs)} | ${cell(reason)} |${usage}`);
  }
  lines.push("");

  lines.push(...timingSection(state));

  if (state.rollback) {
    lines.push(`## Rollback (${state.rollback.state})`, "", "| step | compensation | log |", "|---|---|---|");
    for (const id of state.rollback.steps) {
      const c = state.steps[id]?.compensation;
      lines.push(`| ${cell(id)} | ${c ? (c.state === "failed" && c.reason ? `failed (${formatReason(c.reason)})` : c.state) : "not run"} | ${cell(c?.log ?? "")} |`);
    }
    lines.push("");
  }

  // Who let a gated step go (or stopped it), for the record a deployment needs.
  const decided = records.filter((r) => r.approval);
  if (decided.length > 0) {
    lines.push("## Approvals", "", "| step | decision | by | how | when | reason |", "|---|---|---|---|---|---|");
    for (const r of decided) {
      const a = r.approval!;
      lines.push(`| ${cell(r.id)} | ${a.approved ? "approved" : "rejected"} | ${cell(a.by)} | ${APPROVAL_VIA[a.via]} | ${a.at} | ${cell(a.reason ?? "")} |`);
    }
    lines.push("");
  }

  const withOutputs = records.filter((r) => r.outputs && Object.keys(r.outputs).length > 0);
  if (withOutputs.length > 0) {
    lines.push("## Outputs", "", "| step | key | value |", "|---|---|---|");
    for (const r of withOutputs) for (const [k, v] of Object.entries(r.outputs ?? {})) lines.push(`| ${cell(r.id)} | ${cell(k)} | ${cell(v)} |`);
    lines.push("");
  }

  if (gantt !== undefined) {
    lines.push("## Timeline", "", "```mermaid", gantt.text.trimEnd(), "```", "");
    if (gantt.omitted > 0) lines.push(`${gantt.omitted} more steps ran; \`ws report ${ws.id}\` draws them all.`, "");
  }

  if (mermaid !== undefined && mermaid.trim() !== "") {
    lines.push("## Graph", "", "```mermaid", mermaid.trimEnd(), "```", "");
  }
  return lines.join("\n");
}

/** The seeds' "Time Saved: 804ms" / "66% time saved" and parallel efficiency (actual vs theoretical). */
function parallelRows(state: RunState): Array<[string, string]> {
  const t = state.timeSaved;
  if (!t) return [];
  return [
    ["time saved", `${formatDuration(t.savedMs)}, ${Math.round(t.savedFraction * 100)}% against one at a time (step times summed)`],
    ["parallel efficiency", `${Math.round(t.efficiency * 100)}% (step times summed / (wall time × ${t.workers} worker${t.workers === 1 ? "" : "s"}))`],
  ];
}

/** Each step group's and wave's start, end and duration, as the seeds report each phase. */
function timingSection(state: RunState): string[] {
  const { groups, waves } = runSpans(state);
  const rows = [...groups.map((s) => ["group", s] as const), ...listedWaves(waves).map((s) => ["wave", s] as const)];
  if (rows.length === 0) return [];
  const out = ["## Groups and waves", "", "| | name | steps | started | ended | duration |", "|---|---|---:|---|---|---:|"];
  for (const [kind, s] of rows) {
    const name = kind === "wave" ? s.id.replace(/^wave /, "") : s.id;
    out.push(`| ${kind} | ${cell(name)} | ${s.steps.length} | ${s.startedAt ?? ""} | ${s.endedAt ?? ""} | ${s.durationMs === undefined ? "" : formatDuration(s.durationMs)} |`);
  }
  out.push("");
  return out;
}
