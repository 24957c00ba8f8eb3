import { formatReason } from "../events/end-reason.js";
import { formatDuration } from "../format/duration.js";
import { STATE_MARKS } from "../format/state-marks.js";
import { formatUsage } from "../format/usage.js";
import type { StepState } from "../events/run-event.js";
import { CRITICAL_COLOR, STATE_COLORS } from "../render/graph-view.js";
import type { AttemptReport, Diff, ReportData, StepReport } from "./report-data.js";
import { GRAPH_MAX_STEPS, LOG_LINES, TEST_LINES } from "./report-data.js";
import { waitLabel, type AttemptBar, type Segment, type SegmentKind } from "./timeline.js";

/**
 * `ws report`'s page: one HTML file that needs nothing else (CSS, SVG and a few lines of script
 * inline; every link points inside the page), readable with scripts off, opened from disk or a CI
 * artifact. A pure function of ReportData. Every string reaches the markup through `h` below,
 * which escapes what it interpolates, so nothing is escaped twice or forgotten.
 */

/**
 * Markup that is already HTML: what `h` builds, inserted as it is. It keeps its pieces and joins
 * them once, at the end: each template concatenating its children's text copied the page once per
 * level of nesting, and at 1000 steps the garbage collector took more time than the drawing.
 */
class Html {
  constructor(readonly pieces: ReadonlyArray<string | Html>) {}
  get text(): string {
    const out: string[] = [];
    const walk = (html: Html) => {
      for (const piece of html.pieces) if (typeof piece === "string") out.push(piece);
      else walk(piece);
    };
    walk(this);
    return out.join("");
  }
}

type Part = Html | string | number | false | undefined | null | readonly Part[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** The one escaping helper: text (and attribute values, always quoted) become safe markup. */
export function escapeHtml(text: string): string {
  // Most strings (ids, numbers, durations) hold none: a test is cheaper than a replace.
  return SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c]!) : text;
}

const SPECIAL = /[&<>"']/;
const SPECIALS = /[&<>"']/g;

function push(out: Array<string | Html>, value: Part): void {
  if (value === undefined || value === null || value === false) return;
  if (value instanceof Html) out.push(value);
  else if (Array.isArray(value)) for (const v of value as readonly Part[]) push(out, v);
  else out.push(escapeHtml(String(value)));
}

/** A template of trusted markup whose interpolations are text (escaped) or markup (`Html`). */
function h(strings: TemplateStringsArray, ...values: Part[]): Html {
  const out: Array<string | Html> = [strings[0]!];
  for (let i = 0; i < values.length; i++) {
    push(out, values[i]);
    out.push(strings[i + 1]!);
  }
  return new Html(out);
}

/** Markup made elsewhere and trusted as it is (Graphviz's SVG). */
function trusted(markup: string): Html {
  return new Html([markup]);
}

export interface HtmlReportOptions {
  /** Ask the browser to reload the page every this many seconds (`ws report --watch` of a running run). */
  refreshSeconds?: number | undefined;
  /** ws's version, in the footer. */
  version?: string | undefined;
}

export function renderHtmlReport(data: ReportData, options: HtmlReportOptions = {}): string {
  const t = data.timeline;
  const title = `${data.wsId}: ${data.status}`;
  const page = h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds !== undefined && data.status === "running" ? h`<meta http-equiv="refresh" content="${options.refreshSeconds}">\n` : ""}<title>${title} · ws report</title>
<style>${trusted(CSS)}</style>
</head>
<body>
<header>
<h1>${data.wsId} <span class="status s-${data.status}">${data.status}</span></h1>
${data.name && data.name !== data.wsId ? h`<p class="name">${data.name}</p>` : ""}
${figures(data)}
</header>
<main>
${data.notes.length > 0 ? h`<ul class="notes">${data.notes.map((n) => h`<li>${n}</li>`)}</ul>` : ""}
<section id="timeline" aria-labelledby="timeline-h">
<h2 id="timeline-h">Timeline</h2>
${legend(data)}
<div class="gantt">${gantt(data)}</div>
<p id="focused" class="focused" aria-live="polite">Hover over or tab to a bar for its step, attempt, start, duration and end.</p>
</section>
${data.graphSvg !== undefined ? h`<section id="graph" aria-labelledby="graph-h"><h2 id="graph-h">Graph</h2><div class="graph">${trusted(inlineGraph(data.graphSvg))}</div></section>` : ""}
<section id="steps" aria-labelledby="steps-h">
<h2 id="steps-h">Steps</h2>
${data.steps.length <= GRAPH_MAX_STEPS ? stepTable(data) : h`<p class="sub">${`${data.steps.length} steps: the table of them is left out; the timeline's rows link to each step's section below.`}</p>`}
${data.steps.map((s) => stepSection(s, data))}
</section>
</main>
<footer>ws report${options.version !== undefined ? ` ${options.version}` : ""} · run ${t.runId} · read ${new Date(data.readAt).toISOString()}${data.status === "running" ? " (a snapshot of a running run)" : ""}</footer>
<script>${trusted(SCRIPT)}</script>
</body>
</html>
`;
  return page.text;
}

function figures(data: ReportData): Html {
  const t = data.timeline;
  const share = t.makespanMs > 0 ? Math.round((t.criticalPath.ms / t.makespanMs) * 100) : 0;
  const rows: Array<[string, Part, string?]> = [
    ["makespan", formatDuration(t.makespanMs), data.status === "running" ? "so far" : undefined],
    ["step time summed", formatDuration(t.stepTimeMs), "one step at a time would take about this"],
    ["speed-up", `${t.speedup.toFixed(2)}×`, "over one at a time"],
    ["critical path", t.criticalPath.steps.length > 0 ? `${formatDuration(t.criticalPath.ms)} of ${formatDuration(t.makespanMs)} (${share}%)` : "-", t.criticalPath.steps.length > 0 ? t.criticalPath.steps.join(" → ") : undefined],
    ["workers", `${t.workers}`, t.lanes > 0 ? `${t.lanes} used at once at most` : undefined],
    ["base commit", t.baseCommit !== undefined ? h`<code>${t.baseCommit.slice(0, 12)}</code>` : "-"],
    ["branch", t.branch !== undefined ? h`<code>${t.branch}</code>` : "none (ran in place)"],
    ["started", `${new Date(t.startedAt).toISOString().slice(11, 19)} UTC`, [new Date(t.startedAt).toISOString().slice(0, 10), t.resume ? `a resume (run ${data.runs} in the log)` : data.runs > 1 ? `the last of ${data.runs} runs in the log` : undefined].filter(Boolean).join(" · ")],
  ];
  return h`<dl class="figures">${rows.map(([k, v, note]) => h`<div><dt>${k}</dt><dd>${v}${note !== undefined ? h`<small>${note}</small>` : ""}</dd></div>`)}</dl>`;
}

// ----------------------------------------------------------------------------- the Gantt chart

const WIDTH = 1100;
const LABEL = 200;
const RIGHT = 16;
const AXIS = 26;
const ROW = 24;
const BAR = 16;
const WAIT = 8;

const SEGMENT_TEXT: Record<SegmentKind, string> = {
  attempt: "the tool ran",
  test: "acceptance test",
  commit: "commit onto the run's branch",
  compensate: "compensation",
  "wait-worker": waitLabel("wait-worker"),
  "wait-rate": waitLabel("wait-rate"),
  "wait-order": waitLabel("wait-order"),
  "wait-approval": waitLabel("wait-approval"),
  "wait-quota": waitLabel("wait-quota"),
  "wait-breaker": waitLabel("wait-breaker"),
  "wait-lane": waitLabel("wait-lane"),
  "wait-retry": waitLabel("wait-retry"),
};

function legend(data: ReportData): Html {
  const kinds = new Set<string>();
  const results = new Set<string>();
  for (const step of data.steps) {
    for (const s of step.row.segments) if (s.kind !== "attempt") kinds.add(s.kind);
    for (const bar of step.row.attempts) results.add(barClass(bar));
  }
  const bars: Array<[string, string]> = [
    ["r-passed", "attempt passed"],
    ["r-failed", "attempt failed"],
    ["r-cut", "lost its race (cut off)"],
    ["r-cancelled", "cancelled or cut short"],
    ["r-open", "running"],
  ];
  const items = [
    ...bars.filter(([c]) => results.has(c)).map(([c, text]) => h`<li><svg width="22" height="12" aria-hidden="true"><rect class="k-attempt ${c}" x="0" y="0" width="22" height="12" rx="2"/></svg>${text}</li>`),
    ...(Object.keys(SEGMENT_TEXT) as SegmentKind[])
      .filter((k) => kinds.has(k))
      .map((k) => {
        const thin = k.startsWith("wait-");
        return h`<li><svg width="22" height="12" aria-hidden="true"><rect class="k-${k}" x="0" y="${thin ? 2 : 0}" width="22" height="${thin ? 8 : 12}" rx="2"/></svg>${SEGMENT_TEXT[k]}</li>`;
      }),
    data.timeline.criticalPath.steps.length > 0 ? h`<li><svg width="22" height="12" aria-hidden="true"><rect class="k-attempt r-passed critical" x="1" y="1" width="20" height="10" rx="2"/></svg>on the critical path (◆)</li>` : "",
    data.timeline.rollback ? h`<li><svg width="22" height="12" aria-hidden="true"><rect class="rollback" x="0" y="0" width="22" height="12"/></svg>rollback</li>` : "",
  ];
  return h`<ul class="legend">${items}</ul>`;
}

function barClass(bar: AttemptBar): string {
  if (bar.open) return "r-open";
  if (bar.cut) return "r-cut";
  if (bar.passed) return "r-passed";
  return bar.reason === "cancelled" || bar.reason === "interrupted" ? "r-cancelled" : "r-failed";
}

/** "+1.2s": times on the page are from the run's start, like the axis. */
function at(ms: number): string {
  return `+${formatDuration(ms)}`;
}

function barText(step: string, bar: AttemptBar): string {
  const end = bar.open ? "still running" : bar.cut ? "lost its race (cut off)" : bar.reason;
  return `${step} · attempt ${bar.attempt} (${bar.tool}) · start ${at(bar.start)} · ${formatDuration(bar.end - bar.start)} · ${end}`;
}

function segmentText(step: string, s: Segment): string {
  const what = s.kind === "test" ? `test ${s.test ?? ""}: ${s.label}${s.passed === undefined ? "" : s.passed ? " (passed)" : " (failed)"}` : s.label;
  return `${step} · ${what} · start ${at(s.start)} · ${formatDuration(s.end - s.start)}${s.open ? " so far" : ""}`;
}

function gantt(data: ReportData): Html {
  const t = data.timeline;
  const span = Math.max(t.makespanMs, t.ticks.at(-1) ?? 0, 1);
  const chart = WIDTH - LABEL - RIGHT;
  const x = (ms: number) => LABEL + (ms / span) * chart;
  const w = (from: number, to: number) => Math.max(1.5, ((to - from) / span) * chart);
  const height = AXIS + data.steps.length * ROW + 8;
  const n = (v: number) => Number(v.toFixed(1));
  const parts: Part[] = [];
  parts.push(h`<svg class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="group" aria-label="${`timeline of ${data.steps.length} steps over ${formatDuration(t.makespanMs)}`}">`);
  parts.push(h`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfd8dc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#90a4ae" stroke-width="3"/></pattern></defs>`);
  data.steps.forEach((_, i) => {
    if (i % 2 === 1) parts.push(h`<rect class="stripe" x="0" y="${AXIS + i * ROW}" width="${WIDTH}" height="${ROW}"/>`);
  });
  if (t.rollback) {
    parts.push(h`<g class="rollback-span"><title>${`rollback · start ${at(t.rollback.start)} · ${formatDuration(t.rollback.end - t.rollback.start)}${t.rollback.passed === false ? " · a compensation failed" : ""}`}</title><rect class="rollback" x="${n(x(t.rollback.start))}" y="${AXIS}" width="${n(w(t.rollback.start, t.rollback.end))}" height="${height - AXIS - 8}"/></g>`);
  }
  for (const tick of t.ticks) {
    const tx = n(x(tick));
    parts.push(h`<line class="grid" x1="${tx}" y1="${AXIS - 6}" x2="${tx}" y2="${height - 8}"/><text class="tick" x="${tx}" y="${AXIS - 10}">${tick === 0 ? "0" : formatDuration(tick)}</text>`);
  }
  data.steps.forEach((step, i) => parts.push(row(step, AXIS + i * ROW, x, w, n)));
  parts.push(h`</svg>`);
  return h`${parts}`;
}

function row(step: StepReport, top: number, x: (ms: number) => number, w: (a: number, b: number) => number, n: (v: number) => number): Html {
  // Narrower than half a pixel at this scale: nobody sees or hovers it, and at 1000 steps such
  // segments were a third of the page. Bars are always drawn (at least 1.5 px).
  const invisible = (from: number, to: number) => x(to) - x(from) < 0.5;
  const r = step.row;
  const mid = top + ROW / 2;
  const id = r.step;
  const label = id.length > 28 ? `${id.slice(0, 27)}…` : id;
  const parts: Part[] = [];
  parts.push(h`<a href="#step-${id}" class="label${r.critical ? " critical" : ""}${r.carried ? " carried" : ""}">${label !== id ? h`<title>${id}</title>` : ""}<text x="8" y="${mid + 4}">${r.critical ? "◆ " : ""}${label}</text></a>`);
  if (r.carried) {
    const state = step.record?.state ?? r.state;
    parts.push(h`<text class="note" x="${LABEL + 6}" y="${mid + 4}">${`carried from an earlier run (${state})`}</text>`);
    return h`<g class="row" data-row="${id}">${parts}</g>`;
  }
  for (const s of r.segments) {
    // A wait that ended as it began held nothing up; drawn, it would only add noise (and bytes: a page per 1000 steps).
    if (s.kind === "attempt" || s.kind === "test" || (invisible(s.start, s.end) && !s.open)) continue;
    const thin = s.kind.startsWith("wait-");
    const y = thin ? mid - WAIT / 2 : mid - BAR / 2;
    parts.push(h`<rect class="seg k-${s.kind}${s.passed === false ? " failed" : ""}${s.open ? " open" : ""}" data-kind="${s.kind}" x="${n(x(s.start))}" y="${y}" width="${n(w(s.start, s.end))}" height="${thin ? WAIT : BAR}"><title>${segmentText(id, s)}</title></rect>`);
  }
  for (const bar of r.attempts) {
    const text = barText(id, bar);
    const cls = barClass(bar);
    const bx = n(x(bar.start));
    const bw = n(w(bar.start, bar.end));
    const critical = r.critical && bar.passed;
    const tests = bar.tests.filter((test) => !invisible(test.start, test.end)).map(
      (test) =>
        h`<rect class="seg k-test${test.passed === false ? " failed" : ""}" data-kind="test" data-test="${test.test ?? 0}" x="${n(x(test.start))}" y="${mid - BAR / 2 + 3}" width="${n(w(test.start, test.end))}" height="${BAR - 6}"><title>${segmentText(id, test)}</title></rect>`,
    );
    // A loser's bar ends in a torn edge: it was stopped, it did not finish.
    const torn = bar.cut ? h`<path class="torn" d="M${n(bx + bw)},${mid - BAR / 2} l-3,4 l3,4 l-3,4 l3,4"/>` : "";
    parts.push(
      h`<a class="bar ${cls}" href="#step-${id}" data-step="${id}" data-attempt="${bar.attempt}" tabindex="0"><title>${text}</title><rect class="k-attempt ${cls}${critical ? " critical" : ""}" x="${bx}" y="${mid - BAR / 2}" width="${bw}" height="${BAR}"/>${tests}${torn}</a>`,
    );
  }
  if (r.attempts.length === 0 && !r.segments.some((s) => s.kind === "compensate")) {
    const why = r.reason !== undefined && r.reason !== r.state ? `${r.state}: ${r.reason}` : r.state;
    const first = r.segments[0];
    parts.push(h`<text class="note" x="${n(first ? x(first.end) + 6 : LABEL + 6)}" y="${mid + 4}">${why}</text>`);
  }
  return h`<g class="row" data-row="${id}">${parts}</g>`;
}

/**
 * Graphviz's SVG made fit to sit inside the page: no XML prolog or DTD (a URL the browser would
 * not fetch, but a reader must not wonder), no namespace attributes (HTML knows inline SVG), a
 * size that scales; and each node a link to its step's section.
 */
function inlineGraph(svg: string): string {
  let out = svg.slice(Math.max(0, svg.indexOf("<svg")));
  out = out.replace(/<!--[\s\S]*?-->\n?/g, "");
  out = out.replace(/<svg width="([\d.]+)pt" height="([\d.]+)pt"/, (_, width: string) => `<svg class="graph-svg" style="max-width:${Math.ceil(Number(width) * 1.34)}px"`);
  out = out.replace(/ xmlns(:xlink)?="[^"]*"/g, "");
  return out.replace(/<g id="(node\d+)" class="node">\n<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g, (_, node: string, escapedId: string, body: string) => {
    const id = unescapeXml(escapedId);
    return h`<g id="${node}" class="node"><title>${id}</title><a href="#step-${id}">${trusted(body)}</a></g>`.text;
  });
}

function unescapeXml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code))).replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[name] ?? "");
}

// ----------------------------------------------------------------------------- the steps

function stateBadge(state: StepState): Html {
  return h`<span class="state st-${state}">${STATE_MARKS[state]} ${state}</span>`;
}

function shownState(step: StepReport): StepState {
  return step.row.carried ? (step.record?.state ?? step.row.state) : step.row.state;
}

function stepTable(data: ReportData): Html {
  // A run of shell steps reports no tokens: an empty column would only say nothing.
  const cost = data.steps.some((s) => formatUsage(s.row.usage) !== "");
  return h`<table class="summary"><thead><tr><th>step</th><th>state</th><th>attempts</th><th>duration</th><th>reason</th>${cost ? h`<th>cost</th>` : ""}</tr></thead><tbody>${data.steps.map((s) => {
    const r = s.row;
    const reason = r.carried ? "from an earlier run" : r.state === "passed" ? "" : (r.reason ?? "");
    return h`<tr><td><a href="#step-${r.step}">${r.critical ? "◆ " : ""}${r.step}</a></td><td>${stateBadge(shownState(s))}</td><td>${r.attempts.length || ""}</td><td>${r.attempts.length > 0 ? formatDuration(r.durationMs) : ""}</td><td>${reason}</td>${cost ? h`<td>${formatUsage(r.usage)}</td>` : ""}</tr>`;
  })}</tbody></table>`;
}

function stepSection(step: StepReport, data: ReportData): Html {
  const r = step.row;
  const state = shownState(step);
  const facts = [
    r.carried ? "carried from an earlier run: this run did not select it" : "",
    r.attempts.length > 0 ? `${r.attempts.length} attempt${r.attempts.length === 1 ? "" : "s"}` : "",
    r.attempts.length > 0 ? formatDuration(r.durationMs) : "",
    r.critical ? "on the critical path" : "",
    formatUsage(r.usage),
  ].filter(Boolean);
  const reason = r.carried ? (step.record?.reason ? formatReason(step.record.reason) : undefined) : r.reason;
  const why = state !== "passed" && reason !== undefined && reason !== state ? reason : undefined;
  // The step's detail is mostly its last attempt's, which that attempt's entry shows already.
  const detail = r.carried ? step.record?.detail : r.detail !== r.attempts.at(-1)?.detail ? r.detail : undefined;
  return h`<section id="step-${r.step}" class="step st-${state}">
<h3>${r.step} ${stateBadge(state)}${why !== undefined ? h` <span class="reason">${why}</span>` : ""}</h3>
${facts.length > 0 ? h`<p class="facts">${facts.join(" · ")}</p>` : ""}${step.description ? h`<p class="description">${step.description}</p>` : ""}${detail ? h`<p class="detail">${detail}</p>` : ""}${artifacts(step, data)}${activity(step, data)}${approval(step)}${step.attempts.length > 0 ? h`<ol class="attempts">${step.attempts.map((a) => attempt(a))}</ol>` : ""}${step.compensation ? compensation(step) : ""}${step.diff ? diff(step.diff, data) : ""}
</section>
`;
}

/** A passed step's artifacts: where ws copied them, and their names. */
function artifacts(step: StepReport, data: ReportData): Html | "" {
  const files = step.record?.artifacts;
  if (!files || files.length === 0) return "";
  return h`<div class="artifacts">artifacts in <code>.worktrees/${data.wsId}/artifacts/${step.row.step}/</code><ul>${files.map((f) => h`<li><code>${f}</code></li>`)}</ul></div>`;
}

/** What a running agent did last (its adapter's activity events, folded into the step's record). */
function activity(step: StepReport, data: ReportData): Html | "" {
  const last = step.record?.activity;
  if (data.status !== "running" || step.row.state !== "running" || !last) return "";
  const spent = formatUsage(last.usage);
  return h`<p class="activity">now (attempt ${last.attempt}): ${last.kind} ${last.text}${spent ? ` · ${spent} so far` : ""}</p>`;
}

const VIA: Record<string, string> = { flag: "ws run --approve", command: "ws approve / ws reject", prompt: "the run's terminal", timeout: "its timeout" };

function approval(step: StepReport): Html | "" {
  const a = step.approval;
  if (!a) return "";
  const wait = step.row.segments.find((s) => s.kind === "wait-approval");
  const waited = wait ? ` after ${formatDuration(wait.end - wait.start)}` : "";
  const decision = a.decided
    ? `${a.decided.approved ? "approved" : "rejected"} by ${a.decided.by} (${VIA[a.decided.via] ?? a.decided.via})${waited}${a.decided.reason ? `: ${a.decided.reason}` : ""}`
    : `waiting for a decision${wait ? ` for ${formatDuration(wait.end - wait.start)}` : ""}`;
  return h`<p class="approval">Approval gate${a.prompt ? h` “${a.prompt}”` : ""}: ${decision}</p>`;
}

function attempt(a: AttemptReport): Html {
  const bar = a.bar;
  const end = bar.open ? "running" : bar.cut ? "lost its race: stopped, its changes dropped" : bar.reason;
  const head = [`attempt ${bar.attempt}`, bar.tool, `start ${at(bar.start)}`, formatDuration(bar.end - bar.start), end, formatUsage(bar.usage)].filter(Boolean).join(" · ");
  const failedTail = !bar.passed && !bar.open && bar.tail.length > 0 && bar.reason !== "tests_failed" ? bar.tail.slice(-TEST_LINES) : [];
  return h`<li class="attempt ${barClass(bar)}"><p class="head">${head}</p>${bar.detail ? h`<p class="detail">${bar.detail}</p>` : ""}${a.feedback ? h`<details class="feedback"><summary>what the retry was told</summary><pre>${a.feedback}</pre></details>` : ""}${bar.tests.length > 0 ? h`<ul class="tests">${bar.tests.map((test) => {
    const result = test.open ? "running" : test.passed ? "passed" : "failed";
    const tail = test.tail.slice(-TEST_LINES);
    return h`<li class="${result}"><code>${test.command}</code> · ${result} · ${formatDuration(test.end - test.start)}${tail.length > 0 ? h`<pre>${tail.join("\n")}</pre>` : ""}</li>`;
  })}</ul>` : ""}${failedTail.length > 0 ? h`<p class="sub">its output, last lines:</p><pre>${failedTail.join("\n")}</pre>` : ""}${a.logTail.length > 0 ? h`<details class="log"><summary>${`log: ${a.logCut ? `the last ${a.logTail.length} lines of` : ""} ${a.logFile ?? ""}`}</summary><pre>${a.logTail.join("\n")}</pre></details>` : ""}</li>`;
}

function compensation(step: StepReport): Html {
  const c = step.compensation!;
  const tail = c.tail.slice(-LOG_LINES);
  return h`<div class="compensation"><p class="head">compensation: ${c.passed ? "passed" : c.reason}${c.undone ? h` · undone by <code>${c.undone.slice(0, 12)}</code>` : ""}</p>${tail.length > 0 ? h`<pre>${tail.join("\n")}</pre>` : ""}</div>`;
}

/** A diff's lines marked by kind. One string, not a template per line: a page of diffs is most of a big report. */
function diffBody(text: string): Html {
  const marked = text.split("\n").map((line) => {
    const safe = escapeHtml(line);
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff --git")) return `<b>${safe}</b>`;
    if (line.startsWith("+")) return `<ins>${safe}</ins>`;
    if (line.startsWith("-")) return `<del>${safe}</del>`;
    if (line.startsWith("@@")) return `<i>${safe}</i>`;
    return safe;
  });
  return trusted(marked.join("\n") + "\n");
}

function diff(d: Diff, data: ReportData): Html {
  const what = d.source === "commit" ? h`commit <code>${d.ref.slice(0, 12)}</code>${data.timeline.branch ? h` on <code>${data.timeline.branch}</code>` : ""}` : h`what it left behind: <code>${d.ref}</code>`;
  return h`<details class="diff"${d.source === "commit" ? "" : " open"}><summary>diff: ${what}${d.cut ? h` <small>(${d.cut})</small>` : ""}</summary>${d.text !== "" ? h`<pre class="diff">${diffBody(d.text)}</pre>` : ""}</details>`;
}

// ----------------------------------------------------------------------------- style and script

const RESULT_FILL = {
  passed: "#43a047",
  failed: "#e53935",
  cut: "url(#hatch)",
  cancelled: "#9e9e9e",
  open: "#1e88e5",
};

const CSS = `
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#ffffff;--panel:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1160px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:0 0 4px}
.name{margin:0 0 8px;color:var(--muted)}
.status{font-size:13px;vertical-align:middle;padding:2px 8px;border-radius:10px;color:#fff;background:#57606a}
.s-passed{background:#2e7d32}.s-failed{background:#c62828}.s-held{background:#b26a00}.s-running{background:#1565c0}.s-cancelled{background:#616161}.s-interrupted{background:#b26a00}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px;margin:12px 0}
.figures div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:6px 10px}
.figures dt{font-size:12px;color:var(--muted)}
.figures dd{margin:0;font-size:16px;font-weight:600;overflow-wrap:anywhere}
.figures small{display:block;font-size:12px;font-weight:400;color:var(--muted)}
.notes{background:#fff8e1;border:1px solid #f0d58c;border-radius:6px;padding:6px 10px 6px 28px}
.legend{list-style:none;padding:0;margin:0 0 8px;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:5px}
.gantt{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
.chart{display:block;font-size:12px}
.stripe{fill:#f6f8fa}
.grid{stroke:#e3e7eb;stroke-width:1}
.tick{fill:var(--muted);text-anchor:middle;font-size:11px}
.label text{fill:var(--fg)}
.label.critical text{fill:${CRITICAL_COLOR};font-weight:700}
.label.carried text,.note{fill:var(--muted);font-style:italic;font-size:11px}
.k-attempt{fill:${RESULT_FILL.passed}}
.k-attempt.r-failed{fill:${RESULT_FILL.failed}}
.k-attempt.r-cut{fill:${RESULT_FILL.cut};stroke:#78909c}
.k-attempt.r-cancelled{fill:${RESULT_FILL.cancelled}}
.k-attempt.r-open{fill:${RESULT_FILL.open}}
.k-attempt.critical{stroke:${CRITICAL_COLOR};stroke-width:2.5}
.k-test{fill:#00838f}
.k-test.failed{fill:#6d0000}
.k-commit{fill:#37474f}
.k-compensate{fill:#fb8c00}
.k-compensate.failed{fill:#bf360c}
.k-wait-worker{fill:#bdbdbd}
.k-wait-rate{fill:#ffd54f}
.k-wait-order{fill:#a1887f}
.k-wait-approval{fill:#fdd835;stroke:#f57f17}
.k-wait-quota{fill:#ff8a65}
.k-wait-breaker{fill:#e57373}
.k-wait-lane{fill:#81d4fa}
.k-wait-retry{fill:#ce93d8}
.open{opacity:.75}
.torn{fill:none;stroke:#fff;stroke-width:2}
.rollback{fill:#fb8c00;opacity:.12}
.chart rect.seg,.chart rect.k-attempt{rx:2px}
.bar:focus{outline:none}
.bar:focus rect.k-attempt,.bar:hover rect.k-attempt,rect.seg:hover{stroke:#0969da;stroke-width:2.5}
.focused{min-height:1.5em;margin:6px 0 0;color:var(--muted);font-size:13px}
.graph{overflow-x:auto;border:1px solid var(--line);border-radius:6px;padding:6px}
.graph-svg{width:100%;height:auto}
table.summary{border-collapse:collapse;width:100%;margin-bottom:16px;font-size:13px}
.summary th,.summary td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line)}
.summary th{color:var(--muted);font-weight:600}
.state{font-weight:600;white-space:nowrap}
${(Object.keys(STATE_COLORS) as StepState[]).map((s) => `.st-${s} .state,.state.st-${s}{color:${STATE_COLORS[s].stroke}}`).join("\n")}
section.step{border:1px solid var(--line);border-left:4px solid #8c959f;border-radius:6px;padding:10px 14px;margin:0 0 12px}
${(Object.keys(STATE_COLORS) as StepState[]).map((s) => `section.st-${s}{border-left-color:${STATE_COLORS[s].stroke}}`).join("\n")}
section.step:target{box-shadow:0 0 0 3px #54aeff66}
.reason{font-weight:400;color:var(--muted);font-family:ui-monospace,monospace;font-size:13px}
.facts,.description,.detail,.approval,.activity,.sub{margin:2px 0;color:var(--muted)}
.detail{color:#7f1d1d}
.attempts{margin:6px 0;padding-left:22px}
.attempt{margin:6px 0}
.attempt .head,.compensation .head{margin:0;font-weight:600}
.tests{margin:2px 0;padding-left:18px;font-size:13px}
.tests .failed{color:#b71c1c}
pre{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:4px 0;overflow-x:auto;font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre}
details>summary{cursor:pointer;color:var(--muted);font-size:13px}
pre.diff ins{color:#116329;background:#dafbe1;text-decoration:none}
pre.diff del{color:#82071e;background:#ffebe9;text-decoration:none}
pre.diff i{color:#6639ba;font-style:normal}
pre.diff b{font-weight:600}
footer{color:var(--muted);font-size:12px;padding:18px 20px 30px}
a{color:#0969da}
code{font:12px ui-monospace,"DejaVu Sans Mono",monospace}
`;

/** Optional: says in words what the focused or hovered bar is (its <title> covers the mouse, not the keyboard). */
const SCRIPT = `(function(){var info=document.getElementById("focused");if(!info)return;function show(e){for(var t=e.target;t&&t.querySelector;t=t.parentNode){var title=t.querySelector(":scope>title");if(title){if(t.closest(".chart"))info.textContent=title.textContent;return;}}}document.addEventListener("focusin",show);document.addEventListener("mouseover",show);})();`;
