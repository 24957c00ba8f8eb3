import type { Usage } from "../events/usage.js";
import { attemptsPhrase } from "../format/attempts.js";
import { formatReason } from "../events/end-reason.js";
import type { EndReason, EventOf, RunEvent } from "../events/run-event.js";
import { foldEvents, type RunState, type StepRecord } from "../store/run-state.js";
import { spanTimings } from "./group-timing.js";
import type { Workstream } from "../workstream/model.js";

/**
 * JUnit XML for CI test tabs: one testcase per step of the run, a failure carrying the reason and
 * the last lines of output, and every attempt and acceptance test listed in system-out.
 */

type TestDetail = Pick<EventOf<"test-end">, "index" | "command" | "passed" | "reason" | "exitCode" | "durationMs" | "tail">;

interface AttemptDetail {
  attempt: number;
  tool: string;
  ended: boolean;
  passed: boolean;
  reason?: EndReason | undefined;
  exitCode: number | null;
  durationMs: number;
  detail?: string | undefined;
  tail: string[];
  tests: TestDetail[];
}

/** The attempts of each step's latest execution (a resumed run replaces an earlier one's). */
function collectAttempts(events: RunEvent[]): Map<string, AttemptDetail[]> {
  const byStep = new Map<string, AttemptDetail[]>();
  const finished = new Set<string>();
  const attemptOf = (step: string, attempt: number): AttemptDetail => {
    const list = byStep.get(step) ?? [];
    byStep.set(step, list);
    let found = list.find((a) => a.attempt === attempt);
    if (!found) {
      found = { attempt, tool: "", ended: false, passed: false, exitCode: null, durationMs: 0, tail: [], tests: [] };
      list.push(found);
    }
    return found;
  };
  for (const event of events) {
    switch (event.type) {
      case "step-start":
        if (finished.delete(event.step)) byStep.delete(event.step);
        attemptOf(event.step, event.attempt).tool = event.tool;
        break;
      case "test-end":
        attemptOf(event.step, event.attempt).tests.push({
          index: event.index,
          command: event.command,
          passed: event.passed,
          reason: event.reason,
          exitCode: event.exitCode,
          durationMs: event.durationMs,
          tail: event.tail,
        });
        break;
      case "attempt-end":
        Object.assign(attemptOf(event.step, event.attempt), {
          ended: true,
          passed: event.passed,
          reason: event.reason,
          exitCode: event.exitCode,
          durationMs: event.durationMs,
          detail: event.detail,
          tail: event.tail,
        });
        break;
      case "step-end":
        finished.add(event.step);
        break;
      default:
        break;
    }
  }
  return byStep;
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function exitText(code: number | null): string {
  return code === null ? "no exit code" : `exit ${code}`;
}

function systemOut(attempts: AttemptDetail[]): string {
  const lines: string[] = [];
  for (const a of attempts) {
    const outcome = a.ended ? (a.reason ? formatReason(a.reason) : a.passed ? "passed" : "failed") : "did not finish";
    lines.push(`attempt ${a.attempt}${a.tool ? ` (${a.tool})` : ""}: ${outcome}, ${exitText(a.exitCode)}, ${seconds(a.durationMs)}s`);
    if (a.detail) lines.push(`  ${a.detail}`);
    for (const t of [...a.tests].sort((x, y) => x.index - y.index)) {
      lines.push(
        `  test ${t.index}: ${t.command} -> ${t.passed ? "passed" : formatReason(t.reason)}, ${exitText(t.exitCode)}, ${seconds(t.durationMs)}s`,
      );
    }
  }
  return lines.join("\n");
}

/** What a reader needs to see why the step failed: the detail, then the failing output. */
function failureBody(record: StepRecord, attempts: AttemptDetail[]): string {
  const last = attempts[attempts.length - 1];
  const lines = [`step ${record.id}: ${record.reason ? formatReason(record.reason) : "failed"} after ${attemptsPhrase(record.attempts, record.interrupted)}`];
  if (!last) return lines.join("\n");
  if (last.detail) lines.push(last.detail);
  const failedTests = last.tests.filter((t) => !t.passed);
  if (failedTests.length > 0) {
    for (const t of failedTests) {
      lines.push(`acceptance test ${t.index} failed (${exitText(t.exitCode)}): ${t.command}`, ...t.tail);
    }
  } else if (last.tail.length > 0) {
    lines.push(`last lines of attempt ${last.attempt}:`, ...last.tail);
  }
  return lines.join("\n");
}

export function renderJunit(ws: Workstream, events: RunEvent[]): string {
  const state = foldEvents(events);
  const attempts = collectAttempts(events);
  const cases: string[] = [];
  // Which suite each step's case goes to (its first group; undefined: the workstream's) and what it counts.
  const placed: CaseMeta[] = [];
  const suiteOf = firstGroups(ws);
  let failures = 0;
  let skipped = 0;
  let stepTime = 0;
  for (const step of ws.steps) {
    const record = state?.steps[step.id];
    // A step this run neither selected nor ever ran (e.g. outside --only) is not part of the report.
    if (!record || (record.state === "pending" && !record.selected)) continue;
    const before = { failures, skipped };
    const detail = attempts.get(step.id) ?? [];
    stepTime += record.durationMs ?? 0;
    const open = `    <testcase classname="${xmlAttr(ws.id)}" name="${xmlAttr(step.id)}" time="${seconds(record.durationMs)}">`;
    const inner: string[] = [];
    // JUnit's per-testcase properties (read by Jenkins, GitLab and the junit report actions).
    const a = record.approval;
    const properties = [
      ...Object.entries(record.outputs ?? {}).map(([k, v]) => [`output.${k}`, v] as const),
      ...(a ? [["approval", `${a.approved ? "approved" : "rejected"} by ${a.by} (${a.via}) at ${a.at}${a.reason ? `: ${a.reason}` : ""}`] as const] : []),
    ];
    if (properties.length > 0) inner.push("      <properties>", ...properties.map(([k, v]) => `        <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`), "      </properties>");
    const usage = usageProperties(record.usage);
    if (usage) inner.push(usage);
    switch (record.state) {
      case "passed":
        break;
      case "failed": {
        failures++;
        const failed = record.reason ? formatReason(record.reason) : "failed";
        inner.push(
          `      <failure message="${xmlAttr(failed)}" type="${xmlAttr(failed)}">${xmlText((record.detail ? `${record.detail}\n` : "") + failureBody(record, detail))}</failure>`,
        );
        break;
      }
      case "blocked":
      case "skipped":
      case "cancelled":
      case "pending":
      case "running": {
        skipped++;
        const why = record.reason ? formatReason(record.reason) : (record.state === "pending" ? "not run" : record.state === "running" ? "cancelled" : record.state);
        inner.push(`      <skipped message="${xmlAttr(why)}"/>`);
        break;
      }
    }
    const out = systemOut(detail);
    if (out) inner.push(`      <system-out>${xmlText(out)}</system-out>`);
    cases.push(inner.length === 0 ? open.replace(/>$/, "/>") : [open, ...inner, "    </testcase>"].join("\n"));
    placed.push({ suite: suiteOf.get(step.id), failed: failures > before.failures, skipped: skipped > before.skipped });
  }
  // Each compensation is a test case of its own: a rollback that failed must show in the CI's test tab.
  for (const id of state?.rollback?.steps ?? []) {
    const c = state?.steps[id]?.compensation;
    if (!c) continue;
    const open = `    <testcase classname="${xmlAttr(`${ws.id}.compensate`)}" name="${xmlAttr(id)}" time="0">`;
    if (c.state === "passed") cases.push(open.replace(/>$/, "/>"));
    else {
      failures++;
      const why = c.reason ? formatReason(c.reason) : "did not finish";
      cases.push([open, `      <failure message="${xmlAttr(`compensation ${why}`)}" type="${xmlAttr(why)}">${xmlText(`log: ${c.log ?? ""}`)}</failure>`, "    </testcase>"].join("\n"));
    }
  }
  const time = seconds(state?.durationMs ?? stepTime);
  const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}"`;
  const grouped = placed.filter((m) => m.suite !== undefined);
  if (!state || grouped.length === 0) {
    return [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="ws" ${counts}>`, `  <testsuite name="${xmlAttr(ws.id)}" ${counts}>`, ...cases, `  </testsuite>`, `</testsuites>`, ``].join("\n");
  }
  // Steps outside every group, and the compensations (after the steps in `cases`), stay in the workstream's own suite.
  const rest = cases.filter((_, i) => placed[i]?.suite === undefined);
  const restCounts = `tests="${rest.length}" failures="${failures - grouped.filter((m) => m.failed).length}" errors="0" skipped="${skipped - grouped.filter((m) => m.skipped).length}" time="${time}"`;
  const main = rest.length > 0 ? [`  <testsuite name="${xmlAttr(ws.id)}" ${restCounts}>`, ...rest, `  </testsuite>`] : [];
  return [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="ws" ${counts}>`, ...main, ...groupSuites(ws, state, cases, placed), `</testsuites>`, ``].join("\n");
}

interface CaseMeta {
  suite: string | undefined;
  failed: boolean;
  skipped: boolean;
}

/** Each step's first group: a step named by two groups is reported once. */
function firstGroups(ws: Workstream): Map<string, string> {
  const of = new Map<string, string>();
  for (const group of ws.stepGroups) for (const id of group.steps) if (!of.has(id)) of.set(id, group.id);
  return of;
}

/**
 * A testsuite per step group (CI test tabs show each suite's time: each group's, the way the seeds
 * report each phase), named `<workstream>/<group>`, timed from its first member's start to its
 * last member's end, that start as its timestamp.
 */
function groupSuites(ws: Workstream, state: RunState, cases: string[], placed: CaseMeta[]): string[] {
  const lines: string[] = [];
  const timings = new Map(spanTimings(state, ws.stepGroups).map((t) => [t.id, t]));
  for (const group of ws.stepGroups) {
    const mine = placed.flatMap((m, i) => (m.suite === group.id ? [i] : []));
    if (mine.length === 0) continue;
    const t = timings.get(group.id);
    const stamp = t?.startedAt ? ` timestamp="${t.startedAt.slice(0, 19)}"` : "";
    const counts = `tests="${mine.length}" failures="${mine.filter((i) => placed[i]!.failed).length}" errors="0" skipped="${mine.filter((i) => placed[i]!.skipped).length}" time="${seconds(t?.durationMs)}"`;
    lines.push(`  <testsuite name="${xmlAttr(`${ws.id}/${group.id}`)}" ${counts}${stamp}>`, ...mine.map((i) => cases[i]!), `  </testsuite>`);
  }
  return lines;
}

// Agent output is full of colour codes; each escape sequence is removed whole, so no "[32m" is
// left behind once the ESC byte itself (invalid in XML) is gone.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;

// Everything outside XML 1.0's Char production, lone surrogates included: a parser rejects the
// whole report for one such character, so it becomes U+FFFD instead.
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function xmlText(text: string): string {
  return text
    .replace(ANSI, "")
    .replace(NOT_XML_CHAR, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r/g, "&#13;");
}

// Line breaks and tabs become character references: attribute normalization would make them spaces.
function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;");
}

/** What an agent step cost, as testcase properties (read by CI test tabs that show them). */
function usageProperties(usage: Usage | undefined): string | undefined {
  if (!usage) return undefined;
  const props = [
    ["cost_usd", usage.costUsd],
    ["input_tokens", usage.inputTokens],
    ["output_tokens", usage.outputTokens],
    ["turns", usage.turns],
  ].filter((p): p is [string, number] => p[1] !== undefined);
  if (props.length === 0) return undefined;
  return ["      <properties>", ...props.map(([name, value]) => `        <property name="${name}" value="${value}"/>`), "      </properties>"].join("\n");
}
