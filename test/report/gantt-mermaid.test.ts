import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/events/run-event.js";
import { ganttText, renderGanttMermaid } from "../../src/report/gantt-mermaid.js";
import { buildTimeline } from "../../src/report/timeline.js";
import { closeBrowser, openPage } from "../helpers/browser.js";
import { cleanup, makeProject, recStep, wsc } from "../run/rig.js";

/**
 * The summary's gantt drawn by the real mermaid (the devDependency's browser build, in Debian's
 * chromium): it must parse, and its SVG hold one task bar per attempt, each found by its task id.
 */

const MERMAID = fileURLToPath(new URL("../../node_modules/mermaid/dist/mermaid.min.js", import.meta.url));

afterAll(async () => {
  await closeBrowser();
  cleanup();
});

/** The bit of a DOM element the page reads. */
interface PageNode {
  id: string;
  textContent: string | null;
  innerHTML: string;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
}

interface Drawn {
  error?: string;
  /** Every task bar: its id (without the diagram's prefix) and class. */
  tasks: Array<{ id: string; cls: string; width: number }>;
  sections: string[];
  taskTexts: string[];
  ticks: string[];
  title: string;
}

/** Renders `text` with mermaid.render in a blank page and reads the SVG back. */
async function draw(text: string): Promise<Drawn> {
  const { page, problems } = await openPage("about:blank");
  await page.setContent("<!doctype html><html><body><div id=out></div></body></html>");
  await page.addScriptTag({ path: MERMAID });
  const drawn = await page.evaluate(async (source: string): Promise<Drawn> => {
    const m = (globalThis as unknown as { mermaid: { initialize(c: object): void; render(id: string, text: string): Promise<{ svg: string }> } }).mermaid;
    m.initialize({ startOnLoad: false });
    const empty: Drawn = { tasks: [], sections: [], taskTexts: [], ticks: [], title: "" };
    try {
      const { svg } = await m.render("g", source);
      // The page's DOM (the tests type-check without the DOM library): what this reads of it.
      const out = (globalThis as unknown as { document: { getElementById(id: string): PageNode } }).document.getElementById("out");
      out.innerHTML = svg;
      const texts = (selector: string) => [...out.querySelectorAll(selector)].map((e) => (e.textContent ?? "").trim());
      return {
        tasks: [...out.querySelectorAll("rect.task")].map((r) => ({ id: r.id.replace(/^g-/, ""), cls: r.getAttribute("class") ?? "", width: Number(r.getAttribute("width")) })),
        sections: texts("text.sectionTitle"),
        taskTexts: texts("text.taskText, text.taskTextOutsideRight, text.taskTextOutsideLeft"),
        ticks: texts("g.tick text"),
        title: texts("text.titleText")[0] ?? "",
      };
    } catch (error) {
      return { ...empty, error: String(error) };
    }
  }, text);
  await page.context().close();
  expect(problems.filter((p) => !p.includes("about:blank"))).toEqual([]);
  return drawn;
}

function ganttBlock(markdown: string): string {
  const block = /## Timeline\n\n```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (block === undefined) throw new Error(`no gantt in:\n${markdown}`);
  return block;
}

describe("the summary's Mermaid gantt", () => {
  it("of a real run renders in mermaid: one bar per attempt, waits as their own bars, the critical path crit", async () => {
    // One worker: c waits for it. b fails its first attempt and passes the retry.
    const p = makeProject([
      {
        id: "gantt",
        execution: { max_workers: 1 },
        steps: [
          recStep("a.first_1", [], { acceptance_tests: ["echo ok"] }),
          recStep("b", ["--fail-first", 1], { depends_on: ["a.first_1"], retries: 1 }),
          recStep("c"),
        ],
      },
    ]);
    const r = await wsc(p, ["run", "gantt", "--summary", "s.md"]);
    expect(r.code, r.stderr).toBe(0);
    const text = ganttBlock(fs.readFileSync(path.join(p.dir, "s.md"), "utf8"));
    expect(text).toMatch(/^gantt\n {2}title gantt#58; passed in \S+, critical path \S+\n {2}dateFormat x\n/);
    const drawn = await draw(text);
    expect(drawn.error).toBeUndefined();
    expect(drawn.title).toMatch(/^gantt: passed in /);
    expect(drawn.sections.filter((s) => s.trim() !== "").sort()).toEqual(["a.first_1", "b", "c"]);
    // The events say how many attempts each step had; the SVG has a bar for each, by task id.
    const events = fs.readFileSync(path.join(p.state("gantt"), "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as RunEvent);
    const attempts = events.filter((e) => e.type === "step-start").length;
    expect(attempts).toBe(4);
    const bars = drawn.tasks.filter((t) => t.id.startsWith("a"));
    expect(bars.map((t) => t.id).sort()).toEqual(["a0_1", "a1_1", "a1_2", "a2_1"]);
    for (const bar of bars) expect(bar.width, bar.id).toBeGreaterThan(0);
    // b's failed first attempt is neither done nor crit-done; its retry is done.
    const cls = (id: string) => drawn.tasks.find((t) => t.id === id)?.cls ?? "";
    expect(cls("a1_1")).not.toMatch(/done/);
    expect(cls("a1_2")).toMatch(/done/);
    expect(drawn.taskTexts.some((t) => /^attempt 1 \(shell\) ✗ /.test(t))).toBe(true);
    expect(drawn.taskTexts.some((t) => t.startsWith("attempt 1 (shell, 1 test) passed"))).toBe(true);
    // c waited for the one worker: a wait bar of its own, not an attempt's.
    expect(drawn.tasks.some((t) => t.id.startsWith("w2_") && /active/.test(t.cls))).toBe(true);
    expect(drawn.taskTexts).toContain("waiting for a worker");
    // The critical path's attempts are crit, and only those.
    const marked = [...text.matchAll(/:crit, (?:done, )?(a\d+_\d+),/g)].map((m) => m[1]).sort();
    expect(marked.length).toBeGreaterThan(0);
    expect(bars.filter((b) => /crit|Crit/.test(b.cls)).map((b) => b.id).sort()).toEqual(marked);
    // Ticks read as time from the run's start (ms, or s past 2 s), whatever the time zone.
    expect(drawn.ticks.length).toBeGreaterThan(1);
    const makespan = Number(/"durationMs":(\d+)/.exec(JSON.stringify(events.at(-1)))?.[1]);
    for (const tick of drawn.ticks) {
      expect(tick).toMatch(/^\d+ ms$|^\d+(\.\d{3})? s$/);
      expect(tick.endsWith(" ms") ? parseInt(tick, 10) : parseFloat(tick) * 1000).toBeLessThanOrEqual(makespan);
    }
  });

  it("takes any step id and label: the grammar's own characters are written as entity codes", async () => {
    const ids = ["a:b", "semi;colon", "hash#tag", "100%", "<b>bold</b>", "title x", "section", "gantt", "%% not a comment", "dateFormat x", "é ü 漢"];
    const t0 = Date.parse("2026-12-01T10:00:00.000Z");
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const events: RunEvent[] = [
      { type: "run-start", at: at(0), runId: "r", wsId: "w:s#1", file: "/w.json", hash: "0", steps: ids, selected: ids, maxWorkers: 4, pid: 1, resume: false, workdir: "/tmp" },
      ...ids.flatMap((id, i): RunEvent[] => [
        { type: "step-wait", at: at(i * 10), step: id, wait: "worker" },
        { type: "step-start", at: at(i * 10 + 5), step: id, attempt: 1, tool: "x:y;z#" },
        { type: "attempt-end", at: at(i * 10 + 50), step: id, attempt: 1, passed: true, reason: { kind: "passed" }, exitCode: 0, signal: null, durationMs: 45, log: "l", tail: [] },
        { type: "step-end", at: at(i * 10 + 50), step: id, state: "passed", reason: { kind: "passed" }, attempts: 1, durationMs: 45 },
      ]),
      // The first step's compensation (a rollback after the run): a task of its own.
      { type: "compensate-start", at: at(150), step: ids[0]!, tool: "shell" },
      { type: "compensate-end", at: at(190), step: ids[0]!, passed: false, reason: { kind: "exit", code: 4 }, durationMs: 40, log: "l", tail: [] },
      { type: "run-end", at: at(200), outcome: "passed", exitCode: 0, durationMs: 200, sequentialMs: 500 },
    ];
    const gantt = renderGanttMermaid(buildTimeline({ events, deps: Object.fromEntries(ids.map((id) => [id, []])) }));
    const drawn = await draw(gantt.text);
    expect(drawn.error).toBeUndefined();
    expect(drawn.tasks.filter((t) => t.id.startsWith("c")).map((t) => t.id)).toEqual(["c0_1"]);
    expect(drawn.taskTexts).toContain("compensate (shell): exit:4");
    expect(drawn.sections.filter((s) => s.trim() !== "")).toEqual(ids);
    expect(drawn.tasks.filter((t) => t.id.startsWith("a"))).toHaveLength(ids.length);
    expect(drawn.taskTexts.filter((t) => t.startsWith("attempt 1 (x:y;z#) passed"))).toHaveLength(ids.length);
    expect(drawn.title).toBe("w:s#1: passed in 200ms, critical path 45ms");
  });

  it("keeps to a size GitHub draws: past the limit the critical path stays and the rest are counted", () => {
    const t0 = Date.parse("2026-12-01T10:00:00.000Z");
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const events: RunEvent[] = [
      { type: "run-start", at: at(0), runId: "r", wsId: "w", file: "/w.json", hash: "0", steps: ids, selected: ids, maxWorkers: 4, pid: 1, resume: false, workdir: "/tmp" },
      ...ids.flatMap((id, i): RunEvent[] => [
        { type: "step-start", at: at(i), step: id, attempt: 1, tool: "shell" },
        { type: "attempt-end", at: at(i + (id === "s29" ? 500 : 10)), step: id, attempt: 1, passed: true, reason: { kind: "passed" }, exitCode: 0, signal: null, durationMs: id === "s29" ? 500 : 10, log: "l", tail: [] },
      ]),
      { type: "run-end", at: at(600), outcome: "passed", exitCode: 0, durationMs: 600, sequentialMs: 800 },
    ];
    const gantt = renderGanttMermaid(buildTimeline({ events, deps: Object.fromEntries(ids.map((id) => [id, []])) }), { maxSteps: 10 });
    expect(gantt.omitted).toBe(20);
    const sections = gantt.text.split("\n").filter((l) => l.startsWith("  section ")).map((l) => l.slice(10));
    expect(sections).toEqual(["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s29"]);
  });

  it("escapes once: a text that already holds an entity code keeps it as typed", () => {
    expect(ganttText("a#35;b")).toBe("a#35;35#59;b");
    expect(ganttText("x:y;z")).toBe("x#58;y#59;z");
    expect(ganttText("two\nlines")).toBe("two lines");
  });
});
