import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { gitProject, ws, type Project } from "../run/rig.js";

/** What the report tests read off a page: its bars, segments and sections, by the names it promises. */

export interface PageBar {
  step: string;
  attempt: number;
  /** r-passed, r-failed, r-cut, r-cancelled or r-open. */
  result: string;
  title: string;
}

/** The attempt bars in document order (rows top to bottom, attempts left to right). */
export function bars(html: string): PageBar[] {
  const found: PageBar[] = [];
  for (const m of html.matchAll(/<a class="bar (r-[a-z]+)" href="[^"]*" data-step="([^"]*)" data-attempt="(\d+)"[^>]*><title>([^<]*)<\/title>/g)) {
    found.push({ result: m[1]!, step: unescape(m[2]!), attempt: Number(m[3]), title: unescape(m[4]!) });
  }
  return found;
}

export const barIds = (html: string) => bars(html).map((b) => `${b.step}/${b.attempt}:${b.result.slice(2)}`);

/** One row's segment kinds (waits, commit, compensation; attempts are bars, tests inside them) with their x, in document order. */
export function segments(html: string, step: string): Array<{ kind: string; x: number }> {
  const row = rowOf(html, step);
  return [...row.matchAll(/<rect class="seg [^"]*" data-kind="([a-z-]+)"[^>]*? x="([\d.]+)"/g)].map((m) => ({ kind: m[1]!, x: Number(m[2]) })).filter((s) => s.kind !== "test");
}

export function rowOf(html: string, step: string): string {
  const start = html.indexOf(`<g class="row" data-row="${step}">`);
  if (start < 0) throw new Error(`no row for ${step}`);
  return html.slice(start, html.indexOf(`<g class="row"`, start + 1) >= 0 ? html.indexOf(`<g class="row"`, start + 1) : html.indexOf("</svg>", start));
}

/** The section of one step (id="step-<id>"). */
export function section(html: string, step: string): string {
  const start = html.indexOf(`<section id="step-${step}"`);
  if (start < 0) throw new Error(`no section for ${step}`);
  return html.slice(start, html.indexOf("</section>", start));
}

/** Every src and href value of the page. */
export function links(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href|xlink:href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!);
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

const DEMO = fileURLToPath(new URL("../../workstreams/ws-deploy-pipeline.json", import.meta.url));

/** The bundled deploy demo, run in a fresh git repository. */
export function deployDemo(): Project {
  return gitProject([JSON.parse(fs.readFileSync(DEMO, "utf8")) as object]);
}

/** `ws report ID` and the page it wrote (its path is what it printed). */
export function report(p: Project, wsId: string, args: string[] = []): { file: string; html: string } {
  const r = ws(p, ["report", wsId, ...args]);
  if (r.code !== 0) throw new Error(`ws report exited ${r.code}: ${r.stderr}`);
  const file = r.stdout.trim().split("\n")[0]!;
  return { file, html: fs.readFileSync(file, "utf8") };
}
